using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CeleryKube.TaskService.Tests;

/// <summary>A SQLite file written before the PostgreSQL store existed upgrades in place when task-service starts.</summary>
public sealed class SqliteUpgradeTests
{
    /// <summary>The last migration of the single-provider era.</summary>
    private const string BeforeReplicas = "20261130120408_ClaimToken";

    [Fact]
    public async Task A_database_from_before_the_provider_switch_keeps_its_tasks_and_idempotency_keys()
    {
        var folder = Path.Combine(Path.GetTempPath(), "celerykube-upgrade-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var connectionString = $"Data Source={Path.Combine(folder, "tasks.db")}";
        try
        {
            await using (var old = new SqliteTasksDbContext(new DbContextOptionsBuilder<SqliteTasksDbContext>().UseSqlite(connectionString).Options))
            {
                await old.GetService<IMigrator>().MigrateAsync(BeforeReplicas);
                await old.Database.ExecuteSqlRawAsync("""
                    INSERT INTO tasks (Id, State, Queue, Algorithm, TextALength, TextBLength, Attempts, CreatedAtMs, UpdatedAtMs, ChangeSeq,
                        Progress, CancelRequested, IdempotencyKey)
                    VALUES ('6f1c1d7e-0000-4000-8000-000000000001', 1, 1, 1, 3, 3, 0, 1, 1, 0, 0, 0, 'old-key');
                    INSERT INTO task_inputs (TaskId, TextA, TextB) VALUES ('6f1c1d7e-0000-4000-8000-000000000001', 'abc', 'bcd');
                    INSERT INTO outbox (TaskId, CreatedAtMs) VALUES ('6f1c1d7e-0000-4000-8000-000000000001', 1);
                    """);
            }
            SqliteConnection.ClearAllPools();

            await using var s = await InProcessStore.StartOnAsync(StoreProvider.Sqlite, connectionString);
            var again = await s.Store.SubmitAsync(TaskRecord.Submitted(TaskQueue.Small, LcsAlgorithm.Unspecified, 3, 3, "old-key", s.Store.NowMs),
                "abc", "bcd", null, CancellationToken.None);
            Assert.False(again.Created);
            Assert.Equal("6f1c1d7e-0000-4000-8000-000000000001", again.Task.Id);
            // The row written before the upgrade has no claim: any dispatcher publishes it.
            var pending = Assert.Single(await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None));
            Assert.Equal(("6f1c1d7e-0000-4000-8000-000000000001", "abc"), (pending.TaskId, pending.TextA));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
