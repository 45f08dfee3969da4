using System.Data.Common;
using CeleryKube.TaskService.Options;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// What differs between the store's database engines, and nothing else: how a context is
/// configured and migrated, how a write transaction takes its place in the change feed, the
/// row-lock clauses (a claim's read, an outbox claim), one-replica-at-a-time rounds, and which errors are worth
/// running a command again for. Every other statement (EF queries, the hot path's prepared SQL with
/// quoted identifiers, upserts with <c>ON CONFLICT</c>) is shared.
/// </summary>
public abstract class StoreDialect
{
    /// <summary>The dialect <paramref name="store"/> asks for, on <paramref name="connectionStrings"/>.</summary>
    public static StoreDialect For(TaskStoreOptions store, ConnectionStringsOptions connectionStrings) => store.Kind switch
    {
        StoreProvider.Postgres => new PostgresDialect(connectionStrings.Tasks),
        _ => new SqliteDialect(connectionStrings.Tasks),
    };

    /// <summary>Registers the provider's pooled context factory as <c>IDbContextFactory&lt;TasksDbContext&gt;</c>, and its helpers.</summary>
    public abstract void AddContexts(IServiceCollection services);

    /// <summary>Brings the schema up to date; safe when several replicas start at once.</summary>
    public abstract Task MigrateAsync(TasksDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// Prepares, on the writer's connection, the statement(s) that number this transaction's
    /// changes at its end (see <see cref="ChangeStamp"/>); the function returns the feed's latest
    /// sequence number afterwards.
    /// </summary>
    internal abstract Func<long> PrepareStamp(Func<string, DbCommand> prepare);

    /// <summary>Appended to a SELECT of rows a command decides from, so no other transaction changes them before its commit.</summary>
    internal abstract string ForUpdateClause { get; }

    /// <summary>Appended to the outbox claim's inner SELECT so concurrent claimers take disjoint rows.</summary>
    internal abstract string SkipLockedClause { get; }

    /// <summary>
    /// Claims the claimable outbox rows up to an id: {0} this replica, {1} the claim's end, {2} the
    /// last id, {3} now. Rows are claimable when unclaimed, lapsed or already this replica's.
    /// </summary>
    internal string ClaimOutboxSql => $$"""
        UPDATE outbox SET "ClaimedBy" = {0}, "ClaimedUntilMs" = {1}
        WHERE "Id" IN (SELECT "Id" FROM outbox
            WHERE "Id" <= {2} AND ("ClaimedUntilMs" IS NULL OR "ClaimedUntilMs" < {3} OR "ClaimedBy" = {0})
            ORDER BY "Id" {{SkipLockedClause}})
        """;

    /// <summary>
    /// Takes the transaction-scoped lock of a background round named <paramref name="round"/>;
    /// false when another replica's round holds it (that round does the work).
    /// </summary>
    internal abstract Task<bool> TryLockRoundAsync(DbConnection connection, long round, CancellationToken cancellationToken);

    /// <summary>An error after which the same command, run again, can succeed (a deadlock, a serialization failure).</summary>
    internal abstract bool IsTransient(Exception error);
}

/// <summary>Names of the background rounds that one replica at a time runs (advisory lock keys).</summary>
internal static class StoreRounds
{
    public const long LeaseReaper = 0x43_4B_52_45_41_50; // "CKREAP"
    public const long RetentionSweep = 0x43_4B_53_57_45_50; // "CKSWEP"
    public const long Migration = 0x43_4B_4D_49_47_52; // "CKMIGR"
}

/// <summary>
/// Turns a provider's <c>IDbContextFactory&lt;TContext&gt;</c> into the one the store uses, so
/// every reader and writer asks for <see cref="TasksDbContext"/> whatever the engine.
/// </summary>
internal sealed class TasksDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<TasksDbContext>
    where TContext : TasksDbContext
{
    public TasksDbContext CreateDbContext() => inner.CreateDbContext();

    public async Task<TasksDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await inner.CreateDbContextAsync(cancellationToken);
}
