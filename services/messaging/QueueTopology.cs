using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using RabbitMQ.Client;

namespace CeleryKube.Messaging;

/// <summary>
/// The one description of CeleryKube's RabbitMQ topology. Task-service and workers both declare
/// it (declaring is idempotent), so either may start first.
/// </summary>
/// <remarks>
/// <c>lcs</c> (direct) routes <c>small</c>/<c>large</c> to the quorum queues <c>lcs.small</c>/<c>lcs.large</c>.
/// A message delivered more than <see cref="RabbitMqOptions.DeliveryLimit"/> times, or rejected,
/// goes through <c>lcs.dlx</c> (fanout) into <c>lcs.dead</c>, which task-service drains to mark
/// those tasks FAILED.
/// </remarks>
public static class QueueTopology
{
    /// <summary>The exchange jobs are published to.</summary>
    public const string JobsExchange = "lcs";

    /// <summary>The exchange dead-lettered jobs go through.</summary>
    public const string DeadLetterExchange = "lcs.dlx";

    /// <summary>The queue of dead-lettered jobs.</summary>
    public const string DeadLetterQueue = "lcs.dead";

    /// <summary>The broker queue type of every CeleryKube queue.</summary>
    public const string QueueType = "quorum";

    /// <summary>
    /// The broker's <c>consumer_timeout</c> as deployed (scripts/rabbitmq, deploy/kustomize/base/rabbitmq.conf;
    /// also RabbitMQ's default): a delivery not settled within it closes the worker's channel and the
    /// job is redelivered elsewhere. Workers settle late (after the result is recorded), so every
    /// worker time budget is derived from it.
    /// </summary>
    public static readonly TimeSpan ConsumerTimeout = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The header a job copy carries when a worker gave it back without blame (task-service
    /// unreachable, shutdown): how many times that happened, for logs.
    /// </summary>
    public const string ReturnedHeader = "x-celerykube-returned";

    /// <summary>MIME type of job message bodies (a serialized <see cref="LcsJob"/>).</summary>
    public const string JobContentType = "application/x-protobuf";

    /// <summary>The task queues, in display order.</summary>
    public static IReadOnlyList<TaskQueue> TaskQueues => Protos.TaskQueues.All;

    /// <summary>The broker queue name of a task queue: <c>lcs.small</c> or <c>lcs.large</c>.</summary>
    public static string QueueName(TaskQueue queue) => queue.BrokerQueueName();

    /// <summary>The routing key on <see cref="JobsExchange"/>: <c>small</c> or <c>large</c>.</summary>
    public static string RoutingKey(TaskQueue queue) => queue is TaskQueue.Small or TaskQueue.Large
        ? queue.Name()
        : throw new ArgumentOutOfRangeException(nameof(queue), queue, "only small and large are task queues");

    /// <summary>Parses <c>small</c>/<c>large</c> (any case) into a task queue.</summary>
    public static bool TryParse(string? text, out TaskQueue queue)
    {
        queue = Protos.TaskQueues.Parse(text);
        return queue != TaskQueue.Unspecified;
    }

    /// <summary>Arguments of the work queues; identical on every declaration or the broker refuses it.</summary>
    public static Dictionary<string, object?> WorkQueueArguments(int deliveryLimit) => new()
    {
        ["x-queue-type"] = QueueType,
        ["x-delivery-limit"] = deliveryLimit,
        ["x-dead-letter-exchange"] = DeadLetterExchange,
    };

    /// <summary>Declares exchanges, queues and bindings. Safe to call any number of times.</summary>
    public static async Task DeclareAsync(IChannel channel, int deliveryLimit, CancellationToken cancellationToken = default)
    {
        await channel.ExchangeDeclareAsync(JobsExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = QueueType }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, routingKey: "", cancellationToken: cancellationToken);
        foreach (var queue in TaskQueues)
        {
            await channel.QueueDeclareAsync(QueueName(queue), durable: true, exclusive: false, autoDelete: false,
                arguments: WorkQueueArguments(deliveryLimit), cancellationToken: cancellationToken);
            await channel.QueueBindAsync(QueueName(queue), JobsExchange, RoutingKey(queue), cancellationToken: cancellationToken);
        }
    }
}
