using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Background;

/// <summary>
/// Nothing stays RUNNING forever: a task whose lease lapsed (its worker vanished without the
/// broker noticing) goes back to its queue through the outbox. Expired worker registrations go too.
/// </summary>
public sealed class LeaseReaper(TaskStore store, IOptions<LeasesOptions> options, IOptions<WorkerRegistryOptions> registry, TimeProvider time,
    ILogger<LeaseReaper> logger)
    : PeriodicService(options.Value.ReaperInterval, time, logger)
{
    /// <summary>Most tasks requeued per round; the next round takes the rest.</summary>
    public const int RoundLimit = 500;

    /// <inheritdoc />
    protected override string RoundMessage => "Requeued {Count} tasks whose worker stopped renewing the lease";

    // After a task-service outage every lease looks lapsed, though the workers are fine and were
    // only unable to renew: give them one lease duration to heartbeat before reaping anything.
    private readonly DateTimeOffset reapNotBefore = time.GetUtcNow().Add(options.Value.Duration);

    /// <summary>One round; returns how many tasks were put back on their queue.</summary>
    public override Task<int> RunOnceAsync(CancellationToken cancellationToken) =>
        Time.GetUtcNow() < reapNotBefore
            ? Task.FromResult(0)
            : store.ReapAsync(registry.Value.ExpireAfter, RoundLimit, cancellationToken);
}
