using System.ComponentModel.DataAnnotations;
using CeleryKube.Messaging;

namespace CeleryKube.TaskService.Options;

/// <summary>
/// What task-service declares the work queues with (<c>RabbitMq__DeliveryLimit</c>). Only
/// task-service declares them (<see cref="QueueTopology.DeclareAsync"/>); workers check that they
/// exist, so they have no such setting to get wrong.
/// </summary>
public sealed class QueueDeclarationOptions
{
    /// <summary>The configuration section (shared with <see cref="RabbitMqOptions"/>).</summary>
    public const string SectionName = "RabbitMq";

    /// <summary>
    /// Deliveries of one job message before the broker dead-letters it into <c>lcs.dead</c> (the
    /// quorum queues' <c>x-delivery-limit</c>). Fixed when a queue is first declared.
    /// </summary>
    [Range(1, 100)]
    public int DeliveryLimit { get; set; } = QueueTopology.DefaultDeliveryLimit;
}
