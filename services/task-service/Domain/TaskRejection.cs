namespace CeleryKube.TaskService.Domain;

/// <summary>Why the domain refused a request; the API turns each kind into its gRPC status.</summary>
public enum RejectionKind
{
    /// <summary>No such task.</summary>
    NotFound,
    /// <summary>The request does not fit the task's current state.</summary>
    FailedPrecondition,
    /// <summary>The caller may not touch this attempt (its claim token does not match).</summary>
    PermissionDenied,
}

/// <summary>
/// A request the lifecycle rules refuse. The domain and the store raise it with a message for the
/// caller; they never build transport errors themselves.
/// </summary>
public sealed class TaskRejection(RejectionKind kind, string message) : Exception(message)
{
    /// <summary>What kind of refusal.</summary>
    public RejectionKind Kind { get; } = kind;

    /// <summary>No task with this id.</summary>
    public static TaskRejection NotFound(string id) => new(RejectionKind.NotFound, $"task {id} does not exist");

    /// <summary>A report for an attempt without that attempt's claim token.</summary>
    public static TaskRejection WrongClaimToken(string id, int attempt) =>
        new(RejectionKind.PermissionDenied, $"the claim token does not match attempt {attempt} of task {id}: only the worker that StartTask answered may report for it");

    /// <summary>The task's state does not allow the request.</summary>
    public static TaskRejection FailedPrecondition(string message) => new(RejectionKind.FailedPrecondition, message);
}
