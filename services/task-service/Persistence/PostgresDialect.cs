using System.Data.Common;
using CeleryKube.TaskService.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// A PostgreSQL database shared by several task-service replicas. Each replica keeps its own
/// batching writer; what makes them correct together: commands lock the task rows they read
/// (<see cref="RowLocks"/>), the change counter row is taken last in each transaction (commit
/// order is sequence order), outbox claims skip rows another replica holds, background rounds take
/// an advisory lock, and <see cref="PostgresNotifications"/> carries commits between replicas.
/// </summary>
internal sealed class PostgresDialect : StoreDialect
{
    private readonly string connectionString;

    public PostgresDialect(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrWhiteSpace(builder.Host)) throw new ArgumentException("it names no Host");
        }
        catch (ArgumentException ex)
        {
            throw new OptionsValidationException(ConnectionStringsOptions.SectionName, typeof(ConnectionStringsOptions),
                [$"ConnectionStrings__Tasks must be an Npgsql connection string (Host=...;Database=...;Username=...) with TaskStore__Provider=Postgres: {ex.Message}"]);
        }
        this.connectionString = connectionString;
    }

    public override void AddContexts(IServiceCollection services)
    {
        services.AddPooledDbContextFactory<PostgresTasksDbContext>(o => o
            .UseNpgsql(connectionString)
            .AddInterceptors(new PostgresRowLocks()));
        services.AddSingleton<IDbContextFactory<TasksDbContext>, TasksDbContextFactory<PostgresTasksDbContext>>();
        services.AddSingleton(sp => new PostgresNotifications(connectionString, sp.GetRequiredService<TaskChangeFeed>(),
            sp.GetRequiredService<ILogger<PostgresNotifications>>()));
        services.AddHostedService(sp => sp.GetRequiredService<PostgresNotifications>());
    }

    public override async Task MigrateAsync(TasksDbContext db, CancellationToken cancellationToken)
    {
        // Npgsql's migrator takes LOCK TABLE on the history table, so replicas starting together
        // apply each migration once. Creating that table is the one step before the lock: a
        // replica that loses that race sees a duplicate-object error and simply tries again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await db.Database.MigrateAsync(cancellationToken);
                return;
            }
            catch (PostgresException ex) when (attempt < 5 && ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
            {
            }
        }
    }

    internal override Func<long> PrepareStamp(Func<string, DbCommand> prepare)
    {
        var stamp = prepare("SELECT stamp_changes()");
        return () => (long)stamp.ExecuteScalar()!;
    }

    internal override string SkipLockedClause => "FOR UPDATE SKIP LOCKED";

    internal override async Task<bool> TryLockRoundAsync(DbConnection connection, long round, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pg_try_advisory_xact_lock(@round)";
        command.Parameters.Add(new NpgsqlParameter("round", round));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    internal override bool IsTransient(Exception error) =>
        error is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure }
        || error.InnerException is { } inner && IsTransient(inner);
}
