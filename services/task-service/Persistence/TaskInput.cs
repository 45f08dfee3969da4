namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// A row of <c>task_inputs</c>: the texts, kept apart from <c>tasks</c> so listings never read
/// megabytes they do not show.
/// </summary>
public sealed class TaskInput
{
    /// <summary>The task id.</summary>
    public required string TaskId { get; init; }
    /// <summary>The first text.</summary>
    public required string TextA { get; init; }
    /// <summary>The second text.</summary>
    public required string TextB { get; init; }
}
