using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// A row of <c>task_tombstones</c>: a deleted task's place in the change feed. A trigger writes it
/// for every deleted task row (by request, by retention, by any statement), the commit stamps it,
/// and the sweeper prunes tombstones no live watcher can still need.
/// </summary>
public sealed class TaskTombstone
{
    /// <summary>The deleted task.</summary>
    public required string TaskId { get; init; }
    /// <summary>Its queue, so queue-filtered watchers see it.</summary>
    public TaskQueue Queue { get; init; }
    /// <summary>Position in the change feed.</summary>
    public long ChangeSeq { get; init; }
}
