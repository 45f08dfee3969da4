namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Wakes readers of the change feed (WatchTasks, the outbox dispatcher) when the writer commits.
/// It carries no data: readers always read the committed rows from the store.
/// </summary>
public sealed class TaskChangeFeed
{
    private TaskCompletionSource committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the writer has read the store's latest change sequence at start-up.</summary>
    public Task Ready => ready.Task;

    /// <summary>The change sequence of the latest commit.</summary>
    public long LastChangeSeq { get; private set; }

    /// <summary>Completes on the next commit after this call.</summary>
    public Task NextCommitAsync() => Volatile.Read(ref committed).Task;

    private TaskCompletionSource outboxAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes on the next commit that added an outbox row. The outbox dispatcher waits on this,
    /// not on every commit: claims and reports are most commits under load and give it nothing to do.
    /// </summary>
    public Task NextOutboxRowAsync() => Volatile.Read(ref outboxAdded).Task;

    /// <summary>Called by the writer after each commit (and once at start-up).</summary>
    public void Notify(long changeSeq, bool addedOutboxRows = false)
    {
        LastChangeSeq = changeSeq;
        ready.TrySetResult();
        Interlocked.Exchange(ref committed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        if (addedOutboxRows)
            Interlocked.Exchange(ref outboxAdded, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
