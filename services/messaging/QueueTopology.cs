using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CeleryKube.Messaging;

/// <summary>
/// The one description of CeleryKube's RabbitMQ topology and every number the broker holds for it.
/// task-service declares it (it publishes, so jobs need somewhere to go); workers only check
/// passively that their queue exists, so a queue argument is set by one process and one setting.
/// </summary>
/// <remarks>
/// <c>lcs</c> (direct) routes <c>small</c>/<c>large</c> to the quorum queues <c>lcs.small</c>/<c>lcs.large</c>.
/// A message delivered more than the delivery limit (<c>RabbitMq__DeliveryLimit</c>) times, or
/// rejected, goes through <c>lcs.dlx</c> (fanout) into <c>lcs.dead</c>, which task-service drains
/// to mark those tasks FAILED. Queue arguments are fixed when a queue is first declared: a later
/// start with another limit keeps the broker's value and says so (<see cref="DeclareAsync"/>)
/// instead of failing.
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

    /// <summary>Deliveries of one job message before the broker dead-letters it, unless <c>RabbitMq__DeliveryLimit</c> says otherwise.</summary>
    public const int DefaultDeliveryLimit = 5;

    /// <summary>AMQP reply code of a declaration whose arguments differ from the existing queue's.</summary>
    private const int PreconditionFailed = 406;

    /// <summary>AMQP reply code of a passive declaration of a queue that does not exist.</summary>
    private const int NotFound = 404;

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

    /// <summary>
    /// Declares exchanges, queues and bindings (task-service, on every start). A work queue that
    /// already exists with other arguments (the limit was changed after the first start) is not an
    /// error that stops the process: the broker keeps the queue's first arguments, jobs go on
    /// flowing, and an error log names the setting, the broker's answer and how to change it.
    /// </summary>
    public static async Task DeclareAsync(IConnection connection, int deliveryLimit, ILogger logger, CancellationToken cancellationToken = default)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.ExchangeDeclareAsync(JobsExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = QueueType }, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, routingKey: "", cancellationToken: cancellationToken);
            foreach (var queue in TaskQueues)
            {
                try
                {
                    await channel.QueueDeclareAsync(QueueName(queue), durable: true, exclusive: false, autoDelete: false,
                        arguments: WorkQueueArguments(deliveryLimit), cancellationToken: cancellationToken);
                }
                catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == PreconditionFailed)
                {
                    logger.LogError(
                        "{Queue} already exists with other arguments than RabbitMq__DeliveryLimit={Limit} asks for (broker: {Reason}). " +
                        "A queue's arguments are fixed when it is first declared, so the broker keeps the limit it was created with and jobs go on " +
                        "flowing under it. To apply the new limit, stop publishing, let {Queue} drain, delete it (rabbitmqctl delete_queue {Queue}) " +
                        "and restart task-service, which declares it again",
                        QueueName(queue), deliveryLimit, ex.ShutdownReason.ReplyText, QueueName(queue), QueueName(queue));
                    // The refusal closed the channel; the queue exists, which is all publishing needs.
                    await channel.DisposeAsync();
                    channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                    await channel.QueueDeclarePassiveAsync(QueueName(queue), cancellationToken);
                }
                await channel.QueueBindAsync(QueueName(queue), JobsExchange, RoutingKey(queue), cancellationToken: cancellationToken);
            }
        }
        finally
        {
            await channel.DisposeAsync();
        }
    }

    /// <summary>
    /// Waits until <paramref name="queue"/> exists, checking passively every second (a worker):
    /// the queue's arguments are task-service's to set, so a worker never declares it and cannot
    /// disagree with it. Warns once while task-service has not declared it yet.
    /// </summary>
    public static async Task AwaitDeclaredAsync(IConnection connection, string queue, ILogger logger, CancellationToken cancellationToken)
    {
        var warned = false;
        while (true)
        {
            var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
                if (warned) logger.LogInformation("{Queue} exists now", queue);
                return;
            }
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == NotFound)
            {
                if (!warned) logger.LogWarning("{Queue} does not exist yet: task-service declares it when it starts; waiting for it", queue);
                warned = true;
            }
            finally
            {
                await channel.DisposeAsync();
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}
