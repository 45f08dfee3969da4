using System.Diagnostics;

namespace CeleryKube.Worker.Consuming;

/// <summary>What finally happens to a delivered message.</summary>
public enum DeliveryVerdict
{
    /// <summary>Done with it (result recorded, or StartTask said skip).</summary>
    Ack,

    /// <summary>
    /// Give it back to the queue for another attempt, counted against the delivery limit: for
    /// failures that may be the message's own (an unexpected error while handling it).
    /// </summary>
    Requeue,

    /// <summary>
    /// Give it back without spending its delivery limit: a copy goes to the back of the queue
    /// (publisher-confirmed), then the original is acknowledged. For causes that are not the
    /// message's fault: task-service unreachable, the worker shutting down. Before RabbitMQ 4.3
    /// every requeue counts toward <c>x-delivery-limit</c>, so a long outage would otherwise
    /// dead-letter jobs that never ran. Falls back to <see cref="Requeue"/> if the copy is refused.
    /// </summary>
    Return,

    /// <summary>Reject without requeue, so the broker dead-letters it into <c>lcs.dead</c> (unparseable).</summary>
    DeadLetter,
}

/// <summary>One job message as the handler sees it, detached from the broker channel.</summary>
/// <param name="Body">The message body (a copy: the client reuses its buffer after the callback).</param>
/// <param name="Redelivered">The broker's redelivered flag.</param>
/// <param name="DeliveryCount">1 on the first delivery, from the quorum queue's <c>x-delivery-count</c>.</param>
/// <param name="Parent">The publisher's trace context, or default.</param>
/// <param name="Settle">Acks, requeues or dead-letters the message; called exactly once.</param>
public sealed record Delivery(byte[] Body, bool Redelivered, int DeliveryCount, ActivityContext Parent, Func<DeliveryVerdict, Task> Settle);
