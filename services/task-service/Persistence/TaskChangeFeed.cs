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

    /// <summary>Called by the writer after each commit.</summary>
    public void Notify(long changeSeq)
    {
        LastChangeSeq = changeSeq;
        ready.TrySetResult();
        Interlocked.Exchange(ref committed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
