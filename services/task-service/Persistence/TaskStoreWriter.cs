using System.Diagnostics.Metrics;
using System.Threading.Channels;
using CeleryKube.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The only writer of the task store. <see cref="TaskStore"/> queues small commands; the writer
/// runs whatever has queued up in one SQLite transaction, so under load many submits, claims and
/// reports share one commit (one fsync) instead of paying for their own. Each command still
/// succeeds or fails alone: it runs under its own savepoint, so a failing command undoes all it
/// did, bulk statements included. Before the commit the transaction's changes are stamped with
/// the next change sequence (<see cref="ChangeStamp"/>).
/// </summary>
internal sealed class TaskStoreWriter(
    IDbContextFactory<TasksDbContext> contexts,
    TaskChangeFeed changeFeed,
    ILogger<TaskStoreWriter> logger) : BackgroundService
{
    private const int MaxBatch = 512;
    private const string Savepoint = "command";
    // Commits and writes per commit say how well grouping works under load (the pipeline benchmark reads them).
    private static readonly Counter<long> Commits = Telemetry.Meter.CreateCounter<long>("celerykube.store.commits", description: "Task store transactions committed");
    private static readonly Counter<long> Writes = Telemetry.Meter.CreateCounter<long>("celerykube.store.writes", description: "Write commands committed");
    private readonly Channel<IWriteCommand> queue = Channel.CreateUnbounded<IWriteCommand>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Runs <paramref name="command"/> in the next write transaction and returns its value once committed.</summary>
    public Task<T> WriteAsync<T>(Func<WriteScope, CancellationToken, Task<T>> command, CancellationToken cancellationToken = default)
    {
        var write = new WriteCommand<T>(command);
        if (!queue.Writer.TryWrite(write)) throw TaskStoreUnavailableException.Stopping();
        return write.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using (var db = await contexts.CreateDbContextAsync(stoppingToken))
        {
            // Watchers start from here, not from zero (which would replay every stored task).
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync(stoppingToken);
            await using var read = connection.CreateCommand();
            read.CommandText = ChangeStamp.Read;
            changeFeed.Notify((long)(await read.ExecuteScalarAsync(stoppingToken))!);
        }
        var batch = new List<IWriteCommand>(MaxBatch);
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next)) batch.Add(next);
                await RunBatchAsync(batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            queue.Writer.TryComplete();
            foreach (var command in batch) command.Fail(TaskStoreUnavailableException.Stopping());
            while (queue.Reader.TryRead(out var left)) left.Fail(TaskStoreUnavailableException.Stopping());
        }
    }

    private async Task RunBatchAsync(List<IWriteCommand> batch, CancellationToken stoppingToken)
    {
        await using var db = await contexts.CreateDbContextAsync(stoppingToken);
        // Each command has its own savepoint below; EF's own would only cover SaveChanges.
        db.Database.AutoSavepointsEnabled = false;
        var scope = new WriteScope(db);
        var done = new List<IWriteCommand>(batch.Count);
        long seq;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(stoppingToken);
            foreach (var command in batch)
            {
                await transaction.CreateSavepointAsync(Savepoint, stoppingToken);
                var outboxBefore = scope.OutboxRowsAdded;
                try
                {
                    await command.RunAsync(scope, stoppingToken);
                    await db.SaveChangesAsync(stoppingToken);
                    await transaction.ReleaseSavepointAsync(Savepoint, stoppingToken);
                    done.Add(command);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    await transaction.RollbackToSavepointAsync(Savepoint, stoppingToken);
                    await transaction.ReleaseSavepointAsync(Savepoint, stoppingToken);
                    scope.OutboxRowsAdded = outboxBefore;
                    command.Fail(ex);
                }
                db.ChangeTracker.Clear();
            }
            seq = await ChangeStamp.StampAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), stoppingToken);
            await transaction.CommitAsync(stoppingToken);
            Commits.Add(1);
            Writes.Add(done.Count);
        }
        catch (Exception ex)
        {
            var stopping = stoppingToken.IsCancellationRequested;
            if (!stopping) logger.LogError(ex, "Task store commit failed; {Count} writes are reported as failed", done.Count);
            var error = stopping ? TaskStoreUnavailableException.Stopping() : new TaskStoreUnavailableException("the task store could not commit; try again", ex);
            foreach (var command in batch) command.Fail(error);
            if (stopping) throw;
            return;
        }
        foreach (var command in done) command.Commit();
        changeFeed.Notify(seq, scope.OutboxRowsAdded);
    }

    private interface IWriteCommand
    {
        Task RunAsync(WriteScope scope, CancellationToken cancellationToken);
        void Commit();
        void Fail(Exception error);
    }

    private sealed class WriteCommand<T>(Func<WriteScope, CancellationToken, Task<T>> run) : IWriteCommand
    {
        private T? result;
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public async Task RunAsync(WriteScope scope, CancellationToken cancellationToken) => result = await run(scope, cancellationToken);
        public void Commit() => Completion.TrySetResult(result!);
        public void Fail(Exception error) => Completion.TrySetException(error);
    }
}

/// <summary>What a write command works with: the transaction's context, and a note of new outbox rows.</summary>
internal sealed class WriteScope(TasksDbContext db)
{
    /// <summary>The context, inside the writer's transaction.</summary>
    public TasksDbContext Db { get; } = db;

    /// <summary>True when a committed command of this batch added outbox rows (wakes the dispatcher).</summary>
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
