using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Api;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Broker;

/// <summary>
/// What GetClusterStatus shows: queues from the broker, workers from the heartbeat registry and
/// throughput from the task store (never from an in-memory event stream).
/// </summary>
public sealed class ClusterStatusReader(
    QueueStatusReader queues,
    IDbContextFactory<TasksDbContext> contexts,
    TaskMetrics metrics,
    IOptions<LeasesOptions> leases)
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

        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var expiredBefore = nowMs - (long)leases.Value.WorkerExpiry.TotalMilliseconds;
        var staleBefore = nowMs - (long)leases.Value.WorkerStaleAfter.TotalMilliseconds;
        foreach (var w in await db.Workers.AsNoTracking().Where(w => w.LastHeartbeatMs >= expiredBefore)
                     .OrderBy(w => w.Queue).ThenBy(w => w.WorkerId).ToListAsync(cancellationToken))
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
            });
        }

        var counts = await db.Tasks.GroupBy(t => t.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        response.StateCounts.AddRange(counts.OrderBy(c => c.State).Select(c => new StateCount { State = c.State, Count = c.Count }));
        metrics.Observe(response.Queues, counts.FirstOrDefault(c => c.State == TaskState.Running)?.Count ?? 0);

        var bucketMs = (long)BucketWidth.TotalMilliseconds;
        var firstBucket = (nowMs - historySeconds * 1000L) / bucketMs * bucketMs;
        var finalStates = TaskStateMachine.FinalStates.ToList();
        var finished = await db.Tasks.AsNoTracking()
            .Where(t => finalStates.Contains(t.State) && t.FinishedAtMs >= firstBucket)
            .GroupBy(t => new { Bucket = t.FinishedAtMs!.Value / bucketMs, t.Queue, Succeeded = t.State == TaskState.Succeeded })
            .Select(g => new { g.Key.Bucket, g.Key.Queue, g.Key.Succeeded, Count = g.Count() })
            .ToListAsync(cancellationToken);
        for (var bucket = firstBucket / bucketMs; bucket <= nowMs / bucketMs; bucket++)
        {
            foreach (var queue in Messaging.QueueTopology.TaskQueues)
            {
                response.Throughput.Add(new ThroughputBucket
                {
                    StartTime = TaskMapper.Time(bucket * bucketMs),
                    Queue = queue,
                    Succeeded = finished.Where(f => f.Bucket == bucket && f.Queue == queue && f.Succeeded).Sum(f => f.Count),
                    Failed = finished.Where(f => f.Bucket == bucket && f.Queue == queue && !f.Succeeded).Sum(f => f.Count),
                });
            }
        }
        return response;
    }
}
