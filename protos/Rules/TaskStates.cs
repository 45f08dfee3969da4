using CeleryKube.Protos.V1;

namespace CeleryKube.Protos;

/// <summary>
/// What every process must agree on about task states (task.proto's lifecycle): which are final,
/// which may still be cancelled or retried, how a state is spelt for people.
/// </summary>
public static class TaskStates
{
    /// <summary>The states no worker report moves a task out of: SUCCEEDED, FAILED, CANCELLED (only a retry does, see <see cref="Retryable"/>).</summary>
    public static readonly IReadOnlyList<TaskState> Final = [TaskState.Succeeded, TaskState.Failed, TaskState.Cancelled];

    /// <summary>The states TaskService.RetryTasks starts a task over from: FAILED and CANCELLED.</summary>
    public static readonly IReadOnlyList<TaskState> Retryable = [TaskState.Failed, TaskState.Cancelled];

    /// <summary>Every state in lifecycle order.</summary>
    public static readonly IReadOnlyList<TaskState> All =
        [TaskState.Pending, TaskState.Queued, TaskState.Running, TaskState.Succeeded, TaskState.Failed, TaskState.Cancelled];

    /// <summary>True for SUCCEEDED, FAILED and CANCELLED.</summary>
    public static bool IsFinal(this TaskState state) => state is TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled;

    /// <summary>True for FAILED and CANCELLED: a retry may run the task again.</summary>
    public static bool IsRetryable(this TaskState state) => state is TaskState.Failed or TaskState.Cancelled;

    /// <summary>True when a cancel request would still change something.</summary>
    public static bool IsCancellable(this LcsTask task) => !task.State.IsFinal() && task.State != TaskState.Unspecified && !task.CancelRequested;

    /// <summary>The state as the API spells it without its prefix, e.g. <c>SUCCEEDED</c>.</summary>
    public static string Label(this TaskState state) => state.ToString().ToUpperInvariant();
}
