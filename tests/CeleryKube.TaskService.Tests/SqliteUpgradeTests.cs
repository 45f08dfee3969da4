using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using CeleryKube.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CeleryKube.TaskService.Tests;

/// <summary>A SQLite file written by an earlier version (before the PostgreSQL store, before task history) upgrades in place when task-service starts.</summary>
public sealed class SqliteUpgradeTests
{
    /// <summary>The last migration of the single-provider era.</summary>
    private const string BeforeReplicas = "20261130120408_ClaimToken";

    /// <summary>
    /// Writes a SQLite file migrated up to <paramref name="migration"/> with <paramref name="sql"/>
    /// run on it, then starts a store on it (which upgrades it) and hands that to <paramref name="check"/>.
    /// </summary>
    private static async Task UpgradeAsync(string migration, string sql, Func<InProcessStore, Task> check)
    {
        var folder = Path.Combine(Path.GetTempPath(), "celerykube-upgrade-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var connectionString = $"Data Source={Path.Combine(folder, "tasks.db")}";
        try
        {
            await using (var old = new SqliteTasksDbContext(new DbContextOptionsBuilder<SqliteTasksDbContext>().UseSqlite(connectionString).Options))
            {
                await old.GetService<IMigrator>().MigrateAsync(migration);
                await old.Database.ExecuteSqlRawAsync(sql);
            }
            SqliteConnection.ClearAllPools();
            await using var s = await InProcessStore.StartOnAsync(StoreProvider.Sqlite, connectionString);
            await check(s);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            RepoPaths.DeleteTempFolder(folder);
        }
    }

    [Fact]
    public Task A_database_from_before_the_provider_switch_keeps_its_tasks_and_idempotency_keys() =>
        UpgradeAsync(BeforeReplicas, """
            INSERT INTO tasks (Id, State, Queue, Algorithm, TextALength, TextBLength, Attempts, CreatedAtMs, UpdatedAtMs, ChangeSeq,
                Progress, CancelRequested, IdempotencyKey)
            VALUES ('6f1c1d7e-0000-4000-8000-000000000001', 1, 1, 1, 3, 3, 0, 1, 1, 0, 0, 0, 'old-key');
            INSERT INTO task_inputs (TaskId, TextA, TextB) VALUES ('6f1c1d7e-0000-4000-8000-000000000001', 'abc', 'bcd');
            INSERT INTO outbox (TaskId, CreatedAtMs) VALUES ('6f1c1d7e-0000-4000-8000-000000000001', 1);
            """, async s =>
        {
            var again = await s.Store.SubmitAsync(TaskRecord.Submitted(TaskQueue.Small, LcsAlgorithm.Unspecified, 3, 3, "old-key", s.Store.NowMs),
                "abc", "bcd", null, CancellationToken.None);
            Assert.False(again.Created);
            Assert.Equal("6f1c1d7e-0000-4000-8000-000000000001", again.Task.Id);
            // The row written before the upgrade has no claim: any dispatcher publishes it.
            var pending = Assert.Single(await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None));
            Assert.Equal(("6f1c1d7e-0000-4000-8000-000000000001", "abc"), (pending.TaskId, pending.TextA));
        });

    /// <summary>The last migration before task history was kept.</summary>
    private const string SqliteBeforeHistory = "20261130133429_Replicas";

    internal const string OldFailedTask = """
        INSERT INTO tasks ("Id", "State", "Queue", "Algorithm", "TextALength", "TextBLength", "Attempts", "CreatedAtMs", "UpdatedAtMs", "ChangeSeq",
            "Progress", "CancelRequested", "Error", "FinishedAtMs")
        VALUES ('6f1c1d7e-0000-4000-8000-000000000002', 5, 1, 1, 3, 3, 1, 1, 1, 0, 0, FALSE, 'boom', 1);
        INSERT INTO task_inputs ("TaskId", "TextA", "TextB") VALUES ('6f1c1d7e-0000-4000-8000-000000000002', 'abc', 'bcd');
        """;

    [Fact]
    public Task A_sqlite_database_from_before_the_history_shows_an_empty_history_for_old_tasks_and_retries_them() =>
        UpgradeAsync(SqliteBeforeHistory, OldFailedTask, AssertOldTaskUpgradedAsync);

    internal static async Task AssertOldTaskUpgradedAsync(InProcessStore s)
    {
        const string id = "6f1c1d7e-0000-4000-8000-000000000002";
        Assert.Empty((await s.Reader.HistoryAsync(id, CancellationToken.None))!);
        Assert.Equal(1, (await s.Store.RetryAsync([id], CancellationToken.None)).Retried);
        var history = Assert.Single((await s.Reader.HistoryAsync(id, CancellationToken.None))!);
        Assert.Equal((TaskState.Pending, 1, "retried"), (history.State, history.Attempt, history.Note));
        var message = Assert.Single(await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None));
        Assert.Equal((id, 1, "abc"), (message.TaskId, message.Retries, message.TextA));
    }
}

/// <summary>A PostgreSQL database from before task history upgrades in place when task-service starts.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresUpgradeTests
{
    /// <summary>The last migration before task history was kept.</summary>
    private const string BeforeHistory = "20261130133455_InitialCreate";

    [Fact]
    public async Task A_postgres_database_from_before_the_history_shows_an_empty_history_for_old_tasks_and_retries_them()
    {
        var server = await PrivatePostgres.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("upgrade");
        try
        {
            await using (var old = new PostgresTasksDbContext(new DbContextOptionsBuilder<PostgresTasksDbContext>().UseNpgsql(connectionString).Options))
            {
                await old.GetService<IMigrator>().MigrateAsync(BeforeHistory);
                await old.Database.ExecuteSqlRawAsync(SqliteUpgradeTests.OldFailedTask);
            }
            await using var s = await InProcessStore.StartOnAsync(StoreProvider.Postgres, connectionString);
            await SqliteUpgradeTests.AssertOldTaskUpgradedAsync(s);
        }
        finally
        {
            await server.DropDatabaseAsync(connectionString);
        }
    }
}
