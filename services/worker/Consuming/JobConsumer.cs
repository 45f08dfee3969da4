using System.Collections.Concurrent;
using CeleryKube.Messaging;
using CeleryKube.Worker.Options;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace CeleryKube.Worker.Consuming;

/// <summary>
/// Consumes <c>lcs.&lt;queue&gt;</c> with prefetch = concurrency and hands each delivery to
/// <see cref="JobHandler"/> on its own task. On shutdown it stops consuming but keeps the
/// connection, so running jobs can still be acknowledged; those that outlive
/// <see cref="WorkerOptions.ShutdownGrace"/> are cancelled and returned to the queue.
/// </summary>
public sealed class JobConsumer(WorkerOptions settings, BrokerConnection broker, JobHandler handler,
    IHostApplicationLifetime lifetime, ILogger<JobConsumer> logger)
    : BackgroundService
{
    /// <summary>After the grace period, how long cancelled jobs get to requeue their messages.</summary>
    public static readonly TimeSpan AbandonWait = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource abandon = new();
    private readonly SemaphoreSlim slots = new(settings.Concurrency, settings.Concurrency);
    // Acks come from many job tasks; one at a time keeps the channel's frame order simple.
    private readonly SemaphoreSlim settleLock = new(1, 1);
    private readonly ConcurrentDictionary<Task, byte> inFlight = new();
    private IConnection? connection;
    private IChannel? channel;
    private IChannel? returnChannel;
    private string? consumerTag;
    private volatile bool stopping;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        connection = await broker.GetAsync(stoppingToken);
        channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
        channel.ChannelShutdownAsync += OnChannelShutdownAsync;
        await channel.BasicQosAsync(prefetchSize: 0, prefetchCount: (ushort)settings.Prefetch, global: false, stoppingToken);
        returnChannel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stoppingToken);

        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += OnReceivedAsync;
        consumerTag = await channel.BasicConsumeAsync(settings.QueueName, autoAck: false, consumer, stoppingToken);
        logger.LogInformation("worker {WorkerId} consuming {Queue} (concurrency {Concurrency}, time limit {TimeLimit:c})",
            settings.Id, settings.QueueName, settings.Concurrency, settings.TimeLimit);
    }

    private Task OnReceivedAsync(object sender, BasicDeliverEventArgs delivered)
    {
        var tag = delivered.DeliveryTag;
        var headers = delivered.BasicProperties.Headers;
        var body = delivered.Body.ToArray();
        var properties = new BasicProperties(delivered.BasicProperties);
        var delivery = new Delivery(body, delivered.Redelivered, DeliveryCount(headers),
            MessageTraceContext.Extract(headers), verdict => verdict == DeliveryVerdict.Return
                ? ReturnAsync(tag, properties, body)
                : SettleAsync(tag, verdict));
        // The client dispatches deliveries one by one, and jobs must run side by side: the job runs
        // here only until its first wait (a tiny job's computation, microseconds, runs here too;
        // any other goes to the thread pool at once), and this returns without awaiting it. A
        // hand-off of the whole job would cost a thread wake-up each.
        var job = RunInSlotAsync(delivery);
        inFlight.TryAdd(job, 0);
        job.ContinueWith(t => inFlight.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Automatic recovery only reopens channels lost with their connection. A channel the broker
    /// closed on its own (e.g. a delivery over the consumer timeout) would leave the worker idle
    /// forever, so the worker exits instead and its supervisor restarts it; unacknowledged jobs
    /// are redelivered, so nothing is lost.
    /// </summary>
    private Task OnChannelShutdownAsync(object sender, ShutdownEventArgs reason)
    {
        if (stopping || reason.Initiator == ShutdownInitiator.Application || connection is not { IsOpen: true }) return Task.CompletedTask;
        logger.LogCritical("the broker closed the consumer channel ({Code} {Text}); stopping the worker so it restarts",
            reason.ReplyCode, reason.ReplyText);
        Environment.ExitCode = 3;
        lifetime.StopApplication();
        return Task.CompletedTask;
    }

    private async Task RunInSlotAsync(Delivery delivery)
    {
        try
        {
            // Prefetch already bounds deliveries; the slots also hold after a channel recovery.
            await slots.WaitAsync(abandon.Token);
        }
        catch (OperationCanceledException)
        {
            await delivery.Settle(DeliveryVerdict.Return);
            return;
        }
        try
        {
            if (stopping) await delivery.Settle(DeliveryVerdict.Return);
            else await handler.HandleAsync(delivery, abandon.Token);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "job handling failed unexpectedly; the message is requeued");
            await delivery.Settle(DeliveryVerdict.Requeue);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task SettleAsync(ulong deliveryTag, DeliveryVerdict verdict)
    {
        var current = channel;
        if (current is null) return;
        await settleLock.WaitAsync();
        try
        {
            switch (verdict)
            {
                case DeliveryVerdict.Ack: await current.BasicAckAsync(deliveryTag, multiple: false); break;
                case DeliveryVerdict.Requeue: await current.BasicNackAsync(deliveryTag, multiple: false, requeue: true); break;
                default: await current.BasicRejectAsync(deliveryTag, requeue: false); break;
            }
        }
        catch (Exception ex)
        {
            // The channel is gone: the broker has already put the message back for redelivery.
            logger.LogWarning("could not {Verdict} delivery {Tag} ({Error}); the broker redelivers it", verdict, deliveryTag, ex.Message);
        }
        finally
        {
            settleLock.Release();
        }
    }

    /// <summary>
    /// Puts a copy of the job at the back of its queue, waits for the broker's confirm, then acks
    /// the original: the copy starts with a fresh delivery count. A crash between the two leaves a
    /// duplicate, which StartTask turns into a skip.
    /// </summary>
    private async Task ReturnAsync(ulong deliveryTag, BasicProperties properties, byte[] body)
    {
        var headers = properties.Headers = new Dictionary<string, object?>(properties.Headers ?? new Dictionary<string, object?>());
        headers.Remove("x-delivery-count");
        headers[QueueTopology.ReturnedHeader] = (headers.TryGetValue(QueueTopology.ReturnedHeader, out var n) && n is not null
            ? Convert.ToInt64(n, System.Globalization.CultureInfo.InvariantCulture) : 0) + 1;
        try
        {
            var publisher = returnChannel ?? throw new InvalidOperationException("no publishing channel");
            await PublishRetry.RunAsync(ct => publisher.BasicPublishAsync(QueueTopology.JobsExchange, QueueTopology.RoutingKey(settings.TaskQueue),
                mandatory: true, properties, body, ct), CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogWarning("could not return delivery {Tag} to the queue as a copy ({Error}); requeueing it", deliveryTag, ex.Message);
            await SettleAsync(deliveryTag, DeliveryVerdict.Requeue);
            return;
        }
        await SettleAsync(deliveryTag, DeliveryVerdict.Ack);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        await base.StopAsync(cancellationToken);
        if (channel is { IsOpen: true } && consumerTag is not null)
        {
            try
            {
                await channel.BasicCancelAsync(consumerTag, noWait: false, CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogWarning("could not cancel the consumer ({Error})", ex.Message);
            }
        }

        var running = inFlight.Keys.ToArray();
        logger.LogInformation("worker {WorkerId} stopped consuming {Queue}; waiting up to {Grace:c} for {Count} running job(s)",
            settings.Id, settings.QueueName, settings.ShutdownGrace, running.Length);
        if (!await CompletesWithin(Task.WhenAll(running), settings.ShutdownGrace))
        {
            logger.LogWarning("shutdown grace of {Grace:c} elapsed: cancelling {Count} job(s) and requeueing them", settings.ShutdownGrace, inFlight.Count);
            await abandon.CancelAsync();
            await CompletesWithin(Task.WhenAll(inFlight.Keys.ToArray()), AbandonWait);
        }

        if (channel is not null) await SafeCloseAsync(channel.CloseAsync(CancellationToken.None));
        if (returnChannel is not null) await SafeCloseAsync(returnChannel.CloseAsync(CancellationToken.None));
    }

    private static async Task<bool> CompletesWithin(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task SafeCloseAsync(Task close)
    {
        try
        {
            await close.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex)
        {
            logger.LogDebug("closing RabbitMQ failed: {Error}", ex.Message);
        }
    }

    /// <summary>1 on first delivery; quorum queues count earlier deliveries in <c>x-delivery-count</c>.</summary>
    public static int DeliveryCount(IDictionary<string, object?>? headers) =>
        headers is not null && headers.TryGetValue("x-delivery-count", out var value) && value is not null
            ? (int)Math.Min(int.MaxValue - 1, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)) + 1
            : 1;

    /// <inheritdoc />
    public override void Dispose()
    {
        channel?.Dispose();
        returnChannel?.Dispose();
        abandon.Dispose();
        base.Dispose();
    }
}
