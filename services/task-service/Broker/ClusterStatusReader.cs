using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Api;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Broker;

/// <summary>
/// What GetClusterStatus shows: queues from the broker, workers from the heartbeat registry and
/// throughput from the task store (never from an in-memory event stream). A pure read: the
/// <c>/metrics</c> gauges read for themselves (<see cref="ClusterGauges"/>).
/// </summary>
public sealed class ClusterStatusReader(
    QueueStatusReader queues,
    TaskReader reader,
    IOptions<LeasesOptions> leases,
    IOptions<WorkerRegistryOptions> registry,
    TimeProvider time)
{
    /// <summary>Width of a throughput bucket.</summary>
    public static readonly TimeSpan BucketWidth = TimeSpan.FromSeconds(10);

    /// <summary>Reads the cluster's current status with <paramref name="historySeconds"/> of throughput.</summary>
    public async Task<GetClusterStatusResponse> ReadAsync(int historySeconds, CancellationToken cancellationToken)
    {
        var response = new GetClusterStatusResponse();
        var queueStatuses = await queues.ReadAsync(cancellationToken);
        response.BrokerAvailable = queueStatuses is not null;
        if (queueStatuses is not null) response.Queues.AddRange(queueStatuses);

        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var expiredBefore = nowMs - (long)registry.Value.ExpireAfter.TotalMilliseconds;
        var staleBefore = nowMs - (long)LeaseRules.StaleAfter(leases.Value.Duration).TotalMilliseconds;
        var counts = await reader.CountsAsync(cancellationToken);
        foreach (var w in await reader.WorkersAsync(expiredBefore, cancellationToken))
        {
            response.Workers.Add(new WorkerStatus
            {
                WorkerId = w.WorkerId,
                Queue = w.Queue,
                Concurrency = w.Concurrency,
                Active = w.Active,
                Processed = w.Processed,
                LastHeartbeatTime = TaskMapper.Time(w.LastHeartbeatMs),
                Stale = w.LastHeartbeatMs < staleBefore,
                ControlAddress = w.ControlAddress ?? "",
                Running = counts.RunningByWorker.GetValueOrDefault(w.WorkerId),
                Failed = counts.FailedByWorker.GetValueOrDefault(w.WorkerId),
            });
        }

        response.StateCounts.AddRange(counts.ByState.OrderBy(c => c.Key).Select(c => new StateCount { State = c.Key, Count = c.Value }));

        if (historySeconds == 0) return response;
        var bucketMs = (long)BucketWidth.TotalMilliseconds;
        var firstBucket = (nowMs - historySeconds * 1000L) / bucketMs * bucketMs;
        // One pass over the grouped counts, one lookup per bucket: cost grows with the window, not with window x rows.
        var finished = (await reader.FinishedCountsAsync(firstBucket, bucketMs, cancellationToken))
            .GroupBy(f => (f.Bucket, f.Queue))
            .ToDictionary(g => g.Key, g => (Succeeded: g.Where(f => f.Succeeded).Sum(f => f.Count), Failed: g.Where(f => !f.Succeeded).Sum(f => f.Count)));
        for (var bucket = firstBucket / bucketMs; bucket <= nowMs / bucketMs; bucket++)
        {
            foreach (var queue in Messaging.QueueTopology.TaskQueues)
            {
                var (succeeded, failed) = finished.GetValueOrDefault((bucket, queue));
                response.Throughput.Add(new ThroughputBucket
                {
                    StartTime = TaskMapper.Time(bucket * bucketMs),
                    Queue = queue,
                    Succeeded = succeeded,
                    Failed = failed,
                });
            }
        }
        return response;
    }
}
