namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// A row of <c>outbox</c>: a job message committed together with its task and deleted once the
/// broker confirmed it. The job body is built from <c>task_inputs</c> at publish time.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Sequence number; publishing follows it.</summary>
    public long Id { get; init; }
    /// <summary>The task to publish.</summary>
    public required string TaskId { get; init; }
    /// <summary>Unix milliseconds it was written.</summary>
    public long CreatedAtMs { get; init; }
    /// <summary>W3C traceparent of the request that caused it, carried into the message headers.</summary>
    public string? TraceParent { get; init; }
    /// <summary>The replica publishing it (<see cref="TaskStore.ReplicaId"/>), while its claim lasts.</summary>
    public string? ClaimedBy { get; init; }
    /// <summary>Unix milliseconds the claim lapses; after it any replica may publish the row.</summary>
    public long? ClaimedUntilMs { get; init; }
}
