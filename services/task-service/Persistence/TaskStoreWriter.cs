using System.Diagnostics.Metrics;
using System.Threading.Channels;
using CeleryKube.ServiceDefaults;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The only writer of the task store. Callers queue small commands; the writer runs whatever has
/// queued up in one SQLite transaction, so under load many submits, claims and reports share one
/// commit (one fsync) instead of paying for their own. Each command still succeeds or fails alone:
/// it is saved inside the transaction under an EF savepoint.
/// </summary>
public sealed class TaskStoreWriter(
    IDbContextFactory<TasksDbContext> contexts,
    TaskChangeFeed changeFeed,
    ILogger<TaskStoreWriter> logger) : BackgroundService
{
    private const int MaxBatch = 512;
    // Commits and writes per commit say how well grouping works under load (the pipeline benchmark reads them).
    private static readonly Counter<long> Commits = Telemetry.Meter.CreateCounter<long>("celerykube.store.commits", description: "Task store transactions committed");
    private static readonly Counter<long> Writes = Telemetry.Meter.CreateCounter<long>("celerykube.store.writes", description: "Write commands committed");
    private readonly Channel<IWriteCommand> queue = Channel.CreateUnbounded<IWriteCommand>(new UnboundedChannelOptions { SingleReader = true });
    private long lastChangeSeq;

    /// <summary>Runs <paramref name="command"/> in the next write transaction and returns its value once committed.</summary>
    public Task<T> WriteAsync<T>(Func<TasksDbContext, CancellationToken, Task<T>> command, CancellationToken cancellationToken = default)
    {
        var write = new WriteCommand<T>(command);
        if (!queue.Writer.TryWrite(write)) throw new InvalidOperationException("the task store is shutting down");
        return write.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using (var db = await contexts.CreateDbContextAsync(stoppingToken))
        {
            lastChangeSeq = await db.Tasks.MaxAsync(t => (long?)t.ChangeSeq, stoppingToken) ?? 0;
        }
        // Watchers start from here, not from zero (which would replay every stored task).
        changeFeed.Notify(lastChangeSeq);
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
            while (queue.Reader.TryRead(out var left)) left.Fail(new OperationCanceledException("task-service is stopping"));
        }
    }

    private async Task RunBatchAsync(List<IWriteCommand> batch, CancellationToken stoppingToken)
    {
        await using var db = await contexts.CreateDbContextAsync(stoppingToken);
        var done = new List<IWriteCommand>(batch.Count);
        var addedOutboxRows = false;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(stoppingToken);
            var seq = lastChangeSeq;
            foreach (var command in batch)
            {
                try
                {
                    await command.RunAsync(db, stoppingToken);
                    var addsOutboxRow = false;
                    foreach (var entry in db.ChangeTracker.Entries())
                    {
                        if (entry.Entity is TaskRecord task && entry.State is (EntityState.Added or EntityState.Modified))
                        {
                            task.ChangeSeq = ++seq;
                            task.UpdatedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                        }
                        else if (entry.Entity is OutboxMessage && entry.State == EntityState.Added)
                        {
                            addsOutboxRow = true;
                        }
                    }
                    await db.SaveChangesAsync(stoppingToken);
                    done.Add(command);
                    addedOutboxRows |= addsOutboxRow;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The savepoint undid this command's rows; forget its tracked changes too.
                    db.ChangeTracker.Clear();
                    command.Fail(ex);
                }
                db.ChangeTracker.Clear();
            }
            await transaction.CommitAsync(stoppingToken);
            lastChangeSeq = seq;
            Commits.Add(1);
            Writes.Add(done.Count);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Task store commit failed; {Count} writes are reported as failed", done.Count);
            foreach (var command in done) command.Fail(ex);
            return;
        }
        foreach (var command in done) command.Commit();
        changeFeed.Notify(lastChangeSeq, addedOutboxRows);
    }

    private interface IWriteCommand
    {
        Task RunAsync(TasksDbContext db, CancellationToken cancellationToken);
        void Commit();
        void Fail(Exception error);
    }

    private sealed class WriteCommand<T>(Func<TasksDbContext, CancellationToken, Task<T>> run) : IWriteCommand
    {
        private T? result;
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public async Task RunAsync(TasksDbContext db, CancellationToken cancellationToken) => result = await run(db, cancellationToken);
        public void Commit() => Completion.TrySetResult(result!);
        public void Fail(Exception error) => Completion.TrySetException(error);
    }
}
