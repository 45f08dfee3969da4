using System.Collections.Concurrent;

namespace CeleryKube.Worker.State;

/// <summary>What this worker is doing and has done since it started: running tasks and counters.</summary>
public sealed class WorkerState
{
    private readonly ConcurrentDictionary<string, RunningTask> running = new();
    private long succeeded, failed, cancelled, skipped;

    /// <summary>When the worker started.</summary>
    public DateTimeOffset StartTime { get; } = DateTimeOffset.UtcNow;

    public int Active => running.Count;

    /// <summary>Snapshot of the running tasks, oldest first.</summary>
    public IReadOnlyList<RunningTask> Running => [.. running.Values.OrderBy(t => t.StartTime)];

    /// <summary>Attempts that finished with a result.</summary>
    public long Succeeded => Interlocked.Read(ref succeeded);

    /// <summary>Attempts that finished with an error.</summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>Attempts stopped because cancellation was requested.</summary>
    public long Cancelled => Interlocked.Read(ref cancelled);

    /// <summary>Deliveries acknowledged without running because StartTask said skip.</summary>
    public long Skipped => Interlocked.Read(ref skipped);

    /// <summary>Attempts finished and reported since start.</summary>
    public long Processed => Succeeded + Failed + Cancelled;

    /// <summary>Records a task as running.</summary>
    public void Add(RunningTask task) => running[task.TaskId] = task;

    /// <summary>Forgets a running task (finished, or given back to the queue).</summary>
    public void Remove(string taskId) => running.TryRemove(taskId, out _);

    /// <summary>Counts a reported outcome.</summary>
    public void Count(Execution.JobOutcome outcome)
    {
        switch (outcome)
        {
            case Execution.JobOutcome.Succeeded: Interlocked.Increment(ref succeeded); break;
            case Execution.JobOutcome.Failed: Interlocked.Increment(ref failed); break;
            case Execution.JobOutcome.Cancelled: Interlocked.Increment(ref cancelled); break;
        }
    }

    public void CountSkipped() => Interlocked.Increment(ref skipped);
}
