using System.Diagnostics.Metrics;
using System.Threading.Channels;
using CeleryKube.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The only writer of the task store. <see cref="TaskStore"/> queues small commands; the writer
/// runs whatever has queued up in one transaction, so under load many submits, claims and
/// reports share one commit (one fsync) instead of paying for their own. Each command still
/// succeeds or fails alone: it runs under its own savepoint, so a failing command undoes all it
/// did, bulk statements included. Before the commit the transaction's changes are stamped with
/// the next change sequence (<see cref="ChangeStamp"/>). The writer keeps one connection with its
/// hot statements prepared (<see cref="WriteStatements"/>) and opens a fresh one after a failed commit.
/// On PostgreSQL every replica has its own writer; a transaction that lost a deadlock to another
/// replica's is rolled back and run again from its first command.
/// </summary>
internal sealed class TaskStoreWriter(
    IDbContextFactory<TasksDbContext> contexts,
    StoreDialect dialect,
    TaskChangeFeed changeFeed,
    ILogger<TaskStoreWriter> logger) : BackgroundService
{
    private const int MaxBatch = 512;

    /// <summary>The longest a deferred write waits for a write somebody waits on, to share its commit.</summary>
    public static readonly TimeSpan DeferralLimit = TimeSpan.FromMilliseconds(5);

    private const int MaxRunsPerBatch = 3;
    // Commits and writes per commit say how well grouping works under load (the pipeline benchmark reads them).
    private static readonly Counter<long> Commits = Telemetry.Meter.CreateCounter<long>("celerykube.store.commits", description: "Task store transactions committed");
    private static readonly Counter<long> Writes = Telemetry.Meter.CreateCounter<long>("celerykube.store.writes", description: "Write commands committed");
    private readonly Channel<IWriteCommand> queue = Channel.CreateUnbounded<IWriteCommand>(new UnboundedChannelOptions { SingleReader = true });
    private TasksDbContext? db;
    private WriteStatements? statements;

    /// <summary>Runs <paramref name="command"/> in the next write transaction and returns its value once committed.</summary>
    public Task<T> WriteAsync<T>(Func<WriteScope, CancellationToken, Task<T>> command, CancellationToken cancellationToken = default) =>
        Enqueue(new WriteCommand<T>(command, deferred: false), cancellationToken);

    /// <summary>Runs <paramref name="command"/>, which does not wait for anything, in the next write transaction.</summary>
    public Task<T> WriteAsync<T>(Func<WriteScope, T> command, CancellationToken cancellationToken = default) =>
        WriteAsync((scope, _) => Task.FromResult(command(scope)), cancellationToken);

    /// <summary>
    /// Like <see cref="WriteAsync{T}"/>, for a write that no caller is waiting on (bookkeeping such
    /// as the broker's confirms): it joins the next transaction instead of starting its own, and
    /// starts one only after <see cref="DeferralLimit"/>. Otherwise it would take a commit of its own
    /// just before the write a worker or client waits for, which then waits for two fsyncs.
    /// </summary>
    public Task<T> WriteDeferredAsync<T>(Func<WriteScope, CancellationToken, Task<T>> command, CancellationToken cancellationToken = default) =>
        Enqueue(new WriteCommand<T>(command, deferred: true), cancellationToken);

    private Task<T> Enqueue<T>(WriteCommand<T> write, CancellationToken cancellationToken)
    {
        if (!queue.Writer.TryWrite(write)) throw TaskStoreUnavailableException.Stopping();
        return write.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Watchers start from here, not from zero (which would replay every stored task).
        var (_, sql) = await OpenAsync(stoppingToken);
        changeFeed.Notify(sql.LastChangeSeq());
        var batch = new List<IWriteCommand>(MaxBatch);
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                Drain(batch);
                if (batch.TrueForAll(c => c.Deferred)) await LingerAsync(batch, stoppingToken);
                await RunBatchAsync(batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await CloseAsync();
            queue.Writer.TryComplete();
            foreach (var command in batch) command.Fail(TaskStoreUnavailableException.Stopping());
            while (queue.Reader.TryRead(out var left)) left.Fail(TaskStoreUnavailableException.Stopping());
        }
    }

    private void Drain(List<IWriteCommand> batch)
    {
        while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next)) batch.Add(next);
    }

    /// <summary>Waits up to <see cref="DeferralLimit"/> for a write that is not deferred, taking in whatever queues meanwhile.</summary>
    private async Task LingerAsync(List<IWriteCommand> batch, CancellationToken stoppingToken)
    {
        // The real clock, not the injected TimeProvider: this bounds a few milliseconds of grouping,
        // not a rule of the task lifecycle, and a test's frozen clock must not hold a confirm forever.
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        linger.CancelAfter(DeferralLimit);
        try
        {
            while (batch.Count < MaxBatch && batch.TrueForAll(c => c.Deferred) && await queue.Reader.WaitToReadAsync(linger.Token)) Drain(batch);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunBatchAsync(List<IWriteCommand> batch, CancellationToken stoppingToken)
    {
        var run = new TransactionRun();
        try
        {
            for (var attempt = 1; !await RunTransactionAsync(batch, run, mayRestart: attempt < MaxRunsPerBatch, stoppingToken); attempt++)
            {
                logger.LogInformation("A write transaction of {Count} commands lost a deadlock (or a serialization conflict) to another replica; running it again", batch.Count);
                run = new TransactionRun();
            }
            Commits.Add(1);
            Writes.Add(run.Done.Count);
        }
        catch (Exception ex)
        {
            await CloseAsync();
            var stopping = stoppingToken.IsCancellationRequested;
            if (!stopping) logger.LogError(ex, "Task store commit failed; {Count} writes are reported as failed", run.Done.Count);
            var error = stopping ? TaskStoreUnavailableException.Stopping() : new TaskStoreUnavailableException("the task store could not commit; try again", ex);
            // A command that failed alone did nothing either way: its own error says more.
            foreach (var (command, own) in run.Failed) command.Fail(own);
            foreach (var command in batch) command.Fail(error);
            if (stopping) throw;
            return;
        }
        // The feed first: a caller whose write returned finds the feed already past it.
        changeFeed.Notify(run.Seq, run.OutboxRowsAdded);
        foreach (var (command, error) in run.Failed) command.Fail(error);
        foreach (var command in run.Done) command.Commit();
    }

    /// <summary>
    /// Runs every command of <paramref name="batch"/> in one transaction, each under its own
    /// savepoint, and commits. A command that loses a deadlock (PostgreSQL) rolls the whole
    /// transaction back when <paramref name="mayRestart"/>: the other replica may be waiting for a
    /// row an earlier command of this transaction locked, and a savepoint keeps those locks, so
    /// running the command again under a fresh one would only deadlock again. It then returns
    /// false, and the caller runs the batch again from the start. Failures are reported only once
    /// the transaction's outcome is known: a command's failure may depend on what an earlier
    /// command did.
    /// </summary>
    private async Task<bool> RunTransactionAsync(List<IWriteCommand> batch, TransactionRun run, bool mayRestart, CancellationToken stoppingToken)
    {
        var (context, sql) = await OpenAsync(stoppingToken);
        var scope = new WriteScope(context, sql, dialect);
        await using var transaction = await context.Database.BeginTransactionAsync(stoppingToken);
        sql.Enlist(transaction.GetDbTransaction());
        foreach (var command in batch)
        {
            sql.BeginCommand();
            scope.OutboxRowsAdded = false;
            try
            {
                await command.RunAsync(scope, stoppingToken);
                if (context.ChangeTracker.HasChanges()) await context.SaveChangesAsync(stoppingToken);
                sql.EndCommand();
                run.Done.Add(command);
                run.OutboxRowsAdded |= scope.OutboxRowsAdded;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                context.ChangeTracker.Clear();
                if (mayRestart && dialect.IsTransient(ex))
                {
                    await transaction.RollbackAsync(stoppingToken);
                    return false;
                }
                sql.UndoCommand();
                run.Failed.Add((command, ex));
            }
            context.ChangeTracker.Clear();
        }
        run.Seq = sql.StampChanges();
        await transaction.CommitAsync(stoppingToken);
        return true;
    }

    /// <summary>What one transaction over a batch did: the commands it kept, those that failed alone, its change sequence.</summary>
    private sealed class TransactionRun
    {
        public List<IWriteCommand> Done { get; } = [];
        public List<(IWriteCommand Command, Exception Error)> Failed { get; } = [];
        public long Seq { get; set; }
        public bool OutboxRowsAdded { get; set; }
    }

    private async Task<(TasksDbContext, WriteStatements)> OpenAsync(CancellationToken cancellationToken)
    {
        if (db is not null && statements is not null) return (db, statements);
        db = await contexts.CreateDbContextAsync(cancellationToken);
        // Each command has its own savepoint; EF's own would only cover SaveChanges.
        db.Database.AutoSavepointsEnabled = false;
        await db.Database.OpenConnectionAsync(cancellationToken);
        statements = new WriteStatements(db.Database.GetDbConnection(), dialect);
        return (db, statements);
    }

    private async Task CloseAsync()
    {
        statements?.Dispose();
        statements = null;
        if (db is not null) await db.DisposeAsync();
        db = null;
    }

    private interface IWriteCommand
    {
        bool Deferred { get; }
        Task RunAsync(WriteScope scope, CancellationToken cancellationToken);
        void Commit();
        void Fail(Exception error);
    }

    private sealed class WriteCommand<T>(Func<WriteScope, CancellationToken, Task<T>> run, bool deferred) : IWriteCommand
    {
        private T? result;
        public bool Deferred => deferred;
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public async Task RunAsync(WriteScope scope, CancellationToken cancellationToken) => result = await run(scope, cancellationToken);
        public void Commit() => Completion.TrySetResult(result!);
        public void Fail(Exception error) => Completion.TrySetException(error);
    }
}

/// <summary>What a write command works with: the transaction's context and prepared statements, and a note of new outbox rows.</summary>
internal sealed class WriteScope(TasksDbContext db, WriteStatements sql, StoreDialect dialect)
{
    /// <summary>The engine's differences (outbox claims, round locks).</summary>
    public StoreDialect Dialect { get; } = dialect;

    /// <summary>
    /// Takes the lock of background round <paramref name="round"/> until commit; false when another
    /// replica runs that round now (this one skips it: the other does the work).
    /// </summary>
    public Task<bool> TryLockRoundAsync(long round, CancellationToken cancellationToken) =>
        Dialect.TryLockRoundAsync(Db.Database.GetDbConnection(), round, cancellationToken);

    /// <summary>The context, inside the writer's transaction.</summary>
    public TasksDbContext Db { get; } = db;

    /// <summary>The hot path's prepared statements, inside the same transaction.</summary>
    public WriteStatements Sql { get; } = sql;

    /// <summary>True when this command added outbox rows the dispatcher must read from the store (wakes it).</summary>
    public bool OutboxRowsAdded { get; set; }

    /// <summary>Adds an outbox row for <paramref name="taskId"/>.</summary>
    public void AddOutbox(string taskId, long nowMs, string? traceParent = null)
    {
        Db.Outbox.Add(new OutboxMessage { TaskId = taskId, CreatedAtMs = nowMs, TraceParent = traceParent });
        OutboxRowsAdded = true;
    }
}

/// <summary>The store cannot take writes now (it is stopping, or a commit failed); the caller may retry.</summary>
public sealed class TaskStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The writer is shutting down.</summary>
    public static TaskStoreUnavailableException Stopping() => new("task-service is stopping; try again");
}
