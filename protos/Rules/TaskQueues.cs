using CeleryKube.Protos.V1;

namespace CeleryKube.Protos;

/// <summary>The task queues' names, the same in settings, metrics labels, the UI and the broker.</summary>
public static class TaskQueues
{
    /// <summary>The task queues, in display order.</summary>
    public static readonly IReadOnlyList<TaskQueue> All = [TaskQueue.Small, TaskQueue.Large];

    /// <summary>The short name: <c>small</c> or <c>large</c>; empty for unspecified.</summary>
    public static string Name(this TaskQueue queue) => queue switch
    {
        TaskQueue.Small => "small",
        TaskQueue.Large => "large",
        _ => "",
    };

    /// <summary>The broker queue: <c>lcs.small</c> or <c>lcs.large</c>.</summary>
    public static string BrokerQueueName(this TaskQueue queue) => queue is TaskQueue.Small or TaskQueue.Large
        ? $"lcs.{queue.Name()}"
        : throw new ArgumentOutOfRangeException(nameof(queue), queue, "only small and large are task queues");

    /// <summary>Parses <c>small</c>/<c>large</c> (any case, trimmed); unspecified for anything else.</summary>
    public static TaskQueue Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "small" => TaskQueue.Small,
        "large" => TaskQueue.Large,
        _ => TaskQueue.Unspecified,
    };
}
