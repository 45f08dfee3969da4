using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Domain;

/// <summary>
/// The one place that says which state changes a task may make. Every write goes through
/// <see cref="Persistence.TaskRecord"/>'s transition methods, which ask this class first.
/// </summary>
public static class TaskStateMachine
{
    /// <summary>True for SUCCEEDED, FAILED and CANCELLED: nothing moves a task out of these.</summary>
    public static bool IsFinal(TaskState state) =>
        state is TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled;

    /// <summary>True when a task in <paramref name="from"/> may move to <paramref name="to"/>.</summary>
    /// <remarks>
    /// PENDING may go straight to RUNNING: a worker can receive the message before the
    /// dispatcher has recorded the broker's confirm. RUNNING may go back to QUEUED only when its
    /// lease lapsed (the reaper) or its worker handed it back on shutdown.
    /// </remarks>
    public static bool CanMove(TaskState from, TaskState to) => (from, to) switch
    {
        (TaskState.Pending, TaskState.Queued or TaskState.Running or TaskState.Failed or TaskState.Cancelled) => true,
        (TaskState.Queued, TaskState.Running or TaskState.Failed or TaskState.Cancelled) => true,
        (TaskState.Running, TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled or TaskState.Queued) => true,
        _ => false,
    };

    /// <summary>The states a listing filter treats as "finished".</summary>
    public static readonly IReadOnlyList<TaskState> FinalStates = [TaskState.Succeeded, TaskState.Failed, TaskState.Cancelled];
}
