namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Wakes readers of the change feed (WatchTasks, the outbox dispatcher) when a commit lands: this
/// replica's writer after each of its commits, and on PostgreSQL <see cref="PostgresNotifications"/>
/// for other replicas' commits. It carries no data: readers always read the committed rows from
/// the store. Every change up to <see cref="LastChangeSeq"/> is committed (the change counter makes
/// commit order sequence order), so a reader that reads up to it skips nothing.
/// </summary>
public sealed class TaskChangeFeed
{
    private TaskCompletionSource committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource outboxAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long lastChangeSeq;

    /// <summary>Completes once the writer has read the store's latest change sequence at start-up.</summary>
    public Task Ready => ready.Task;

    /// <summary>The highest change sequence known to be committed.</summary>
    public long LastChangeSeq => Volatile.Read(ref lastChangeSeq);

    /// <summary>Completes on the next commit after this call.</summary>
    public Task NextCommitAsync() => Volatile.Read(ref committed).Task;

    /// <summary>
    /// Completes on the next commit that added an outbox row for the store path. The outbox
    /// dispatcher waits on this, not on every commit: claims and reports are most commits under
    /// load and give it nothing to do.
    /// </summary>
    public Task NextOutboxRowAsync() => Volatile.Read(ref outboxAdded).Task;

    /// <summary>
    /// A commit with sequence <paramref name="changeSeq"/> landed (the writer's own, once at start-up,
    /// or another replica's). Sequences may arrive out of order from the two sources; the feed keeps the highest.
    /// </summary>
    public void Notify(long changeSeq, bool addedOutboxRows = false)
    {
        var known = Volatile.Read(ref lastChangeSeq);
        while (changeSeq > known)
        {
            var seen = Interlocked.CompareExchange(ref lastChangeSeq, changeSeq, known);
            if (seen == known) break;
            known = seen;
        }
        ready.TrySetResult();
        Wake(ref committed);
        if (addedOutboxRows) NotifyOutboxRows();
    }

    /// <summary>Outbox rows were left for any replica to publish (another replica's requeue).</summary>
    public void NotifyOutboxRows() => Wake(ref outboxAdded);

    // Readers are woken through the thread pool's global queue: the callers the writer completes
    // right after go to its thread's local queue, which that thread runs first. Woken directly,
    // the watch broadcast's read (about 1 ms of CPU) ran ahead of the replies on that thread.
    private static void Wake(ref TaskCompletionSource signal)
    {
        var fired = Interlocked.Exchange(ref signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.TrySetResult(), fired, preferLocal: false);
    }
}
