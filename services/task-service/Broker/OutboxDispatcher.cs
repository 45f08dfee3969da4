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
using RabbitMQ.Client.Exceptions;

namespace CeleryKube.TaskService.Broker;

/// <summary>
/// Publishes job messages with publisher confirms, many in flight at once, then marks their tasks
/// QUEUED and deletes their outbox rows in one write. A fresh submission is handed over in memory
/// right after its commit (<see cref="Offer"/>), so it is published without reading it back; its
/// outbox row stays the durable fallback: rows the memory path did not take (after a restart, a
/// failed publish, a full hand-over queue, a requeue by the reaper, another replica that died) are
/// claimed from the store (<see cref="TaskStore.ClaimOutboxAsync"/>), so replicas sharing a store
/// never publish the same row in the same round. A crash between publish and delete republishes;
/// StartTask and FinishTask make the duplicate harmless.
/// </summary>
public sealed class OutboxDispatcher(
    BrokerConnection broker,
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

    /// <summary>The wait after a round that published nothing (broker refusing, no confirms); it doubles up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between rounds that publish nothing.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Channel<PendingJob> fresh = Channel.CreateUnbounded<PendingJob>(new UnboundedChannelOptions { SingleReader = true });
    private long waitingChars;
    // Rows the memory path could not take; start with a read, for whatever a previous run left.
    private volatile bool storeHasRows = true;
    // Outbox rows up to this id were read from the store, so their memory copies are already handled.
    private long storeReadUpTo;
    // Store rows still to publish one at a time, after a batch the broker refused (see PublishAsync).
    private int rowsToIsolate;

    /// <summary>Hands over a just-committed submission for publishing; if too much is waiting, the store copy is used.</summary>
    public void Offer(PendingJob job)
    {
        if (Interlocked.Add(ref waitingChars, job.Chars) > MaxWaitingChars || !fresh.Writer.TryWrite(job))
        {
            Interlocked.Add(ref waitingChars, -job.Chars);
            storeHasRows = true;
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await broker.GetAsync(stoppingToken);
        IChannel? channel = null;
        var backoff = FirstBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            var outboxRowAdded = changeFeed.NextOutboxRowAsync();
            try
            {
                channel ??= await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                        outstandingPublisherConfirmationsRateLimiter: null),
                    stoppingToken);
                var round = await PublishRoundAsync(channel, stoppingToken);
                if (round is { } published)
                {
                    // A channel the broker closed (e.g. it refused a message) is never reopened by
                    // automatic recovery: replace it, or every later publish fails on it.
                    if (!channel.IsOpen)
                    {
                        channel.Dispose();
                        channel = null;
                    }
                    if (published.Confirmed > 0 || published.Failed == 0)
                    {
                        backoff = FirstBackoff;
                        continue;
                    }
                    logger.LogWarning("Outbox round published nothing ({Failed} unconfirmed); next try in {Backoff:g}", published.Failed, backoff);
                    await Task.Delay(backoff, time, stoppingToken);
                    backoff = Min(backoff * 2, MaxBackoff);
                    continue;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Outbox publish failed, next try in {Backoff:g}: {Error}", backoff, ex.Message);
                storeHasRows = true;
                if (channel is { IsOpen: false })
                {
                    channel.Dispose();
                    channel = null;
                }
                await Task.Delay(backoff, time, stoppingToken);
                backoff = Min(backoff * 2, MaxBackoff);
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

    /// <summary>One round from memory or the store; null when there was nothing to publish.</summary>
    private async Task<RoundResult?> PublishRoundAsync(IChannel channel, CancellationToken cancellationToken)
    {
        // While the rows of a refused round are being told apart, the store path goes one row at a time.
        var isolating = rowsToIsolate > 0;
        var fromMemory = isolating ? [] : TakeFresh();
        if (fromMemory.Count > 0) return await PublishAsync(channel, fromMemory, cancellationToken);
        if (!storeHasRows) return null;
        storeHasRows = false;
        var jobs = await store.ClaimOutboxAsync(isolating ? 1 : MaxBatchRows, MaxBatchChars, cancellationToken);
        if (jobs.Count == 0) return null;
        storeReadUpTo = Math.Max(storeReadUpTo, jobs[^1].OutboxId);
        storeHasRows = true;
        if (isolating) rowsToIsolate--;
        return await PublishAsync(channel, jobs, cancellationToken);
    }

    private List<PendingJob> TakeFresh()
    {
        var jobs = new List<PendingJob>();
        long chars = 0;
        while (jobs.Count < MaxBatchRows && chars < MaxBatchChars && fresh.Reader.TryRead(out var job))
        {
            Interlocked.Add(ref waitingChars, -job.Chars);
            if (job.OutboxId <= storeReadUpTo) continue;
            jobs.Add(job);
            chars += job.Chars;
        }
        return jobs;
    }

    private async Task<RoundResult> PublishAsync(IChannel channel, List<PendingJob> jobs, CancellationToken cancellationToken)
    {
        var failures = await Task.WhenAll(jobs.Select(job => PublishAsync(channel, job, cancellationToken)));
        var confirmed = jobs.Where((_, i) => failures[i] is null).Select(j => (j.OutboxId, j.TaskId)).ToList();
        // An unconfirmed row stays in the outbox; the store path retries it.
        if (confirmed.Count < jobs.Count) storeHasRows = true;
        if (confirmed.Count > 0) await store.MarkPublishedAsync(confirmed, cancellationToken);
        var refusal = failures.Select(Refusal).FirstOrDefault(r => r is not null);
        if (refusal is not null)
        {
            // The broker closes the channel on a message it refuses, failing every publish in flight
            // with the same reason: only a row refused on its own is known to be the cause.
            if (jobs.Count == 1)
            {
                logger.LogError("The broker refused the job message of task {TaskId} ({Reason}); the task fails", jobs[0].TaskId, refusal);
                await store.FailUnpublishableAsync(jobs[0].OutboxId, jobs[0].TaskId, $"the message broker refused the job message: {refusal}",
                    cancellationToken);
                return new RoundResult(confirmed.Count + 1, 0);
            }
            rowsToIsolate = jobs.Count;
        }
        return new RoundResult(confirmed.Count, jobs.Count - confirmed.Count);
    }

    /// <summary>Publishes one job and waits for its confirm; returns why it failed, or null.</summary>
    private async Task<Exception?> PublishAsync(IChannel channel, PendingJob job, CancellationToken cancellationToken)
    {
        // A task cancelled or failed before it was published needs no message; the row is still cleared.
        if (!TaskRecord.NeedsPublishing(job.State)) return null;
        var parent = job.TraceParent is not null && ActivityContext.TryParse(job.TraceParent, null, out var ctx) ? ctx : default;
        using var activity = Telemetry.ActivitySource.StartActivity($"publish {QueueTopology.QueueName(job.Queue)}", ActivityKind.Producer, parent);
        var message = new LcsJob
        {
            TaskId = job.TaskId,
            Algorithm = job.Algorithm,
            TextALength = job.TextALength,
            TextBLength = job.TextBLength,
            Retries = job.Retries,
        };
        if (job is { TextA: { } a, TextB: { } b })
        {
            message.TextA = a;
            message.TextB = b;
        }
        else
        {
            message.InputInStore = true;
        }
        var body = message.ToByteArray();
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
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Publishing task {TaskId} was not confirmed: {Error}", job.TaskId, ex.Message);
            return ex;
        }
    }

    /// <summary>
    /// The broker's reply text when it closed the channel because of a message's content
    /// (PRECONDITION_FAILED, e.g. over its max message size): publishing it again cannot succeed.
    /// </summary>
    private static string? Refusal(Exception? failure) =>
        failure is OperationInterruptedException { ShutdownReason: { Initiator: ShutdownInitiator.Peer, ReplyCode: Constants.PreconditionFailed } reason }
            ? reason.ReplyText
            : null;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private readonly record struct RoundResult(int Confirmed, int Failed);
}
