using System.Diagnostics;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;
using CeleryKube.TaskService.Api;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Persistence;
using Google.Protobuf;
using RabbitMQ.Client;

namespace CeleryKube.TaskService.Broker;

/// <summary>
/// Publishes committed outbox rows with publisher confirms, many in flight at once, then marks
/// their tasks QUEUED and deletes the rows in one write. A crash between publish and delete
/// republishes on restart; StartTask makes the duplicate harmless.
/// </summary>
public sealed class OutboxDispatcher(
    BrokerConnection broker,
    TaskReader reader,
    TaskStore store,
    TaskChangeFeed changeFeed,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    /// <summary>Rows published per round; all of them are in flight together.</summary>
    private const int BatchSize = 256;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await broker.GetAsync(stoppingToken);
        IChannel? channel = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var nextCommit = changeFeed.NextOutboxRowAsync();
            var published = 0;
            try
            {
                channel ??= await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                        outstandingPublisherConfirmationsRateLimiter: null),
                    stoppingToken);
                published = await PublishBatchAsync(channel, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Outbox publish failed, retrying: {Error}", ex.Message);
                if (channel is { IsOpen: false })
                {
                    channel.Dispose();
                    channel = null;
                }
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                continue;
            }
            if (published == BatchSize) continue;
            // Wake on the next commit that added an outbox row, or poll now and then for rows a failed round left.
            await Task.WhenAny(nextCommit, Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken));
        }
    }

    private async Task<int> PublishBatchAsync(IChannel channel, CancellationToken cancellationToken)
    {
        var jobs = await reader.PendingJobsAsync(BatchSize, cancellationToken);
        if (jobs.Count == 0) return 0;

        var results = await Task.WhenAll(jobs.Select(job => PublishAsync(channel, job, cancellationToken)));
        var confirmed = jobs.Where((_, i) => results[i]).ToList();
        if (confirmed.Count > 0)
            await store.MarkPublishedAsync(confirmed.Select(j => j.OutboxId).ToList(), confirmed.Select(j => j.TaskId).ToList(), cancellationToken);
        return jobs.Count;
    }

    private async Task<bool> PublishAsync(IChannel channel, PendingJob job, CancellationToken cancellationToken)
    {
        // A task cancelled or failed before it was published needs no message; the row is still cleared.
        if (!TaskRecord.NeedsPublishing(job.State)) return true;
        var parent = job.TraceParent is not null && ActivityContext.TryParse(job.TraceParent, null, out var ctx) ? ctx : default;
        using var activity = Telemetry.ActivitySource.StartActivity($"publish {QueueTopology.QueueName(job.Queue)}", ActivityKind.Producer, parent);
        var body = new LcsJob
        {
            TaskId = job.TaskId,
            TextA = job.TextA,
            TextB = job.TextB,
            Algorithm = job.Algorithm,
            Queue = job.Queue,
            CreateTime = TaskMapper.Time(job.CreatedAtMs),
        }.ToByteArray();
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = QueueTopology.JobContentType,
            Type = LcsJob.Descriptor.FullName,
            MessageId = job.TaskId,
            Headers = new Dictionary<string, object?>(),
        };
        MessageTraceContext.Inject(activity ?? Activity.Current, properties.Headers);
        try
        {
            await channel.BasicPublishAsync(QueueTopology.JobsExchange, QueueTopology.RoutingKey(job.Queue), mandatory: true,
                properties, body, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Publishing task {TaskId} was not confirmed: {Error}", job.TaskId, ex.Message);
            return false;
        }
    }
}
