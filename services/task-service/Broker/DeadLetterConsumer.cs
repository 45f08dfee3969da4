using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace CeleryKube.TaskService.Broker;

/// <summary>
/// Drains <c>lcs.dead</c>: a job the broker dead-lettered (delivery limit reached, or rejected as
/// unreadable) ends its task FAILED with the reason, so poison messages never loop forever.
/// </summary>
public sealed class DeadLetterConsumer(
    BrokerConnection broker,
    TaskStore store,
    IOptions<QueueDeclarationOptions> declared,
    TimeProvider time,
    ILogger<DeadLetterConsumer> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await broker.GetAsync(stoppingToken);
        var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
        await channel.BasicQosAsync(0, 32, false, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            try
            {
                await HandleAsync(delivery, stoppingToken);
                await channel.BasicAckAsync(delivery.DeliveryTag, false, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Could not record a dead-lettered job; it stays on {Queue}", QueueTopology.DeadLetterQueue);
                await channel.BasicNackAsync(delivery.DeliveryTag, false, true, stoppingToken);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        };
        await channel.BasicConsumeAsync(QueueTopology.DeadLetterQueue, autoAck: false, consumer, stoppingToken);
        await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        await channel.CloseAsync(CancellationToken.None);
    }

    private async Task HandleAsync(BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var taskId = delivery.BasicProperties.MessageId;
        if (string.IsNullOrEmpty(taskId))
        {
            try { taskId = LcsJob.Parser.ParseFrom(delivery.Body.Span).TaskId; }
            catch (Google.Protobuf.InvalidProtocolBufferException) { }
        }
        if (string.IsNullOrEmpty(taskId))
        {
            logger.LogWarning("Dropping a dead-lettered message that names no task");
            return;
        }
        var reason = DescribeDeath(delivery.BasicProperties.Headers);
        await store.FailDeadLetteredAsync(taskId, reason, cancellationToken);
        logger.LogWarning("Task {TaskId} dead-lettered: {Reason}", taskId, reason);
    }

    private string DescribeDeath(IDictionary<string, object?>? headers)
    {
        var why = MessageTraceContext.HeaderText(headers, "x-first-death-reason") ?? "unknown";
        var queue = MessageTraceContext.HeaderText(headers, "x-first-death-queue") ?? "its queue";
        return TaskRecord.DeadLetteredErrorPrefix + queue + (why switch
        {
            "delivery_limit" => $": delivered more than {declared.Value.DeliveryLimit} times without completing (RabbitMq__DeliveryLimit); each attempt's worker stopped before reporting",
            "rejected" => ": a worker rejected the job message as unreadable",
            "expired" => ": the job message expired",
            _ => $" ({why})",
        });
    }
}
