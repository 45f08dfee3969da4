using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Background;

/// <summary>
/// Nothing stays RUNNING forever: a task whose lease lapsed (its worker vanished without the
/// broker noticing) goes back to its queue through the outbox. Expired worker registrations go too.
/// </summary>
public sealed class LeaseReaper(TaskStoreWriter writer, IOptions<LeasesOptions> options, ILogger<LeaseReaper> logger)
    : PeriodicService(options.Value.ReaperInterval, logger)
{
    /// <inheritdoc />
    protected override string RoundMessage => "Requeued {Count} tasks whose worker stopped renewing the lease";

    // After a task-service outage every lease looks lapsed, though the workers are fine and were
    // only unable to renew: give them one lease duration to heartbeat before reaping anything.
    private readonly long reapNotBeforeMs = DateTimeOffset.UtcNow.Add(options.Value.Duration).ToUnixTimeMilliseconds();

    /// <summary>One round; returns how many tasks were put back on their queue.</summary>
    public override Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (now < reapNotBeforeMs) return Task.FromResult(0);
        var expiredBefore = now - (long)options.Value.WorkerExpiry.TotalMilliseconds;
        return writer.WriteAsync(async (db, ct) =>
        {
            var lapsed = await db.Tasks.Where(t => t.State == TaskState.Running && t.LeaseExpiresAtMs < now).Take(500).ToListAsync(ct);
            var requeued = 0;
            foreach (var task in lapsed)
            {
                if (!task.ReleaseLapsedLease(now)) continue;
                db.Outbox.Add(new OutboxMessage { TaskId = task.Id, CreatedAtMs = now });
                requeued++;
            }
            await db.Workers.Where(w => w.LastHeartbeatMs < expiredBefore).ExecuteDeleteAsync(ct);
            return requeued;
        }, cancellationToken);
    }
}
