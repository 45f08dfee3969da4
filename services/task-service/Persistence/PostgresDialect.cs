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
        // Replicas starting together migrate one after the other: EF's own lock (LOCK TABLE on its
        // history table, per transaction) let two replicas both apply a later migration when several
        // were pending. This session lock is held across the whole migration; the next replica then
        // finds nothing left to apply. A database that does not exist yet (EF creates it) has no lock.
        await using var lockConnection = new NpgsqlConnection(connectionString);
        try
        {
            await lockConnection.OpenAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            await MigrateRetryingAsync(db, cancellationToken);
            return;
        }
        await AdvisoryAsync(lockConnection, "pg_advisory_lock", cancellationToken);
        try
        {
            await MigrateRetryingAsync(db, cancellationToken);
        }
        finally
        {
            // Released explicitly: a pooled connection's session (and its lock) outlives Close.
            await AdvisoryAsync(lockConnection, "pg_advisory_unlock", CancellationToken.None);
        }
    }

    private static async Task AdvisoryAsync(NpgsqlConnection connection, string function, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {function}(@key)", connection);
        command.Parameters.Add(new NpgsqlParameter("key", StoreRounds.Migration));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task MigrateRetryingAsync(TasksDbContext db, CancellationToken cancellationToken)
    {
        // Creating EF's history table is the one step before EF's lock: a replica that loses that
        // race (only possible without the session lock) sees a duplicate-object error and tries again.
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

    // PostgresRowLocks appends the same clauses to EF queries tagged with RowLocks.
    internal const string ForUpdate = "FOR UPDATE";
    internal const string ForUpdateSkipLocked = "FOR UPDATE SKIP LOCKED";

    internal override string ForUpdateClause => ForUpdate;

    internal override string SkipLockedClause => ForUpdateSkipLocked;

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
