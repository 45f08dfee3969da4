using System.Diagnostics;
using System.Threading.Channels;
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
/// Publishes job messages with publisher confirms, many in flight at once, then marks their tasks
/// QUEUED and deletes their outbox rows in one write. A fresh submission is handed over in memory
/// right after its commit (<see cref="Offer"/>), so it is published without reading it back; its
/// outbox row stays the durable fallback: rows the memory path did not take (after a restart, a
/// failed publish, a full hand-over queue, a requeue by the reaper) are read from the store. A
/// crash between publish and delete republishes; StartTask and FinishTask make the duplicate harmless.
/// </summary>
public sealed class OutboxDispatcher(
    BrokerConnection broker,
    TaskReader reader,
    TaskStore store,
    TaskChangeFeed changeFeed,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    /// <summary>Most messages in flight per round.</summary>
    public const int MaxBatchRows = 256;

    /// <summary>Most text characters per round, so rounds of large jobs stay a bounded size.</summary>
    public const long MaxBatchChars = 4 * 1024 * 1024;

    /// <summary>Most text characters waiting in memory; a submission beyond it is read from the store instead.</summary>
    public const long MaxWaitingChars = 16 * 1024 * 1024;

    private readonly Channel<PendingJob> fresh = Channel.CreateUnbounded<PendingJob>(new UnboundedChannelOptions { SingleReader = true });
    private long waitingChars;
    // Rows the memory path could not take; start with a read, for whatever a previous run left.
    private volatile bool storeHasRows = true;
    // Outbox rows up to this id were read from the store, so their memory copies are already handled.
    private long storeReadUpTo;

    /// <summary>Hands over a just-committed submission for publishing; if too much is waiting, the store copy is used.</summary>
    public void Offer(PendingJob job)
    {
        var chars = Chars(job);
        if (Interlocked.Add(ref waitingChars, chars) > MaxWaitingChars || !fresh.Writer.TryWrite(job))
        {
            Interlocked.Add(ref waitingChars, -chars);
            storeHasRows = true;
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await broker.GetAsync(stoppingToken);
        IChannel? channel = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var outboxRowAdded = changeFeed.NextOutboxRowAsync();
            try
            {
                channel ??= await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                        outstandingPublisherConfirmationsRateLimiter: null),
                    stoppingToken);
                var fromMemory = TakeFresh();
                if (fromMemory.Count > 0)
                {
                    await PublishAsync(channel, fromMemory, stoppingToken);
                    continue;
                }
                if (storeHasRows)
                {
                    storeHasRows = false;
                    var jobs = await reader.PendingJobsAsync(MaxBatchRows, MaxBatchChars, stoppingToken);
                    if (jobs.Count > 0) storeReadUpTo = Math.Max(storeReadUpTo, jobs[^1].OutboxId);
                    await PublishAsync(channel, jobs, stoppingToken);
                    if (jobs.Count > 0) storeHasRows = true;
                    continue;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Outbox publish failed, retrying: {Error}", ex.Message);
                storeHasRows = true;
                if (channel is { IsOpen: false })
                {
                    channel.Dispose();
                    channel = null;
                }
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                continue;
            }
            // Wake on a hand-over, on a commit that added outbox rows for the store path, or now and
            // then for rows a failed round left.
            using var wakeUp = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var handedOver = fresh.Reader.WaitToReadAsync(wakeUp.Token).AsTask();
            var idle = Task.Delay(TimeSpan.FromSeconds(2), time, wakeUp.Token);
            var woke = await Task.WhenAny(handedOver, outboxRowAdded, idle);
            if (woke != handedOver) storeHasRows = true;
            await wakeUp.CancelAsync();
        }
    }

    private List<PendingJob> TakeFresh()
    {
        var jobs = new List<PendingJob>();
        long chars = 0;
        while (jobs.Count < MaxBatchRows && chars < MaxBatchChars && fresh.Reader.TryRead(out var job))
        {
            Interlocked.Add(ref waitingChars, -Chars(job));
            if (job.OutboxId <= storeReadUpTo) continue;
            jobs.Add(job);
            chars += Chars(job);
        }
        return jobs;
    }

    private async Task PublishAsync(IChannel channel, List<PendingJob> jobs, CancellationToken cancellationToken)
    {
        if (jobs.Count == 0) return;
        var results = await Task.WhenAll(jobs.Select(job => PublishAsync(channel, job, cancellationToken)));
        var confirmed = jobs.Where((_, i) => results[i]).Select(j => (j.OutboxId, j.TaskId)).ToList();
        // An unconfirmed row stays in the outbox; the store path retries it.
        if (confirmed.Count < jobs.Count) storeHasRows = true;
        if (confirmed.Count > 0) await store.MarkPublishedAsync(confirmed, cancellationToken);
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
        }.ToByteArray();
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = QueueTopology.JobContentType,
            Type = LcsJob.Descriptor.FullName,
            MessageId = job.TaskId,
        };
        if (activity is not null)
        {
            properties.Headers = new Dictionary<string, object?>();
            MessageTraceContext.Inject(activity, properties.Headers);
        }
        try
        {
            await PublishRetry.RunAsync(ct => channel.BasicPublishAsync(QueueTopology.JobsExchange, QueueTopology.RoutingKey(job.Queue),
                mandatory: true, properties, body, ct), cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Publishing task {TaskId} was not confirmed: {Error}", job.TaskId, ex.Message);
            return false;
        }
    }

    private static long Chars(PendingJob job) => job.TextA.Length + job.TextB.Length;
}
