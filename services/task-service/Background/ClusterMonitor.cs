using CeleryKube.TaskService.Broker;

namespace CeleryKube.TaskService.Background;

/// <summary>
/// Refreshes the queue-depth and running-task gauges on <c>/metrics</c> even when nobody opens
/// the cluster page (which reads the same status).
/// </summary>
public sealed class ClusterMonitor(ClusterStatusReader status, TimeProvider time, ILogger<ClusterMonitor> logger)
    : PeriodicService(TimeSpan.FromSeconds(10), time, logger)
{
    /// <inheritdoc />
    protected override string RoundMessage => "Cluster status read ({Count} queues)";

    /// <summary>Reads the status once; the reader updates the gauges as a side effect.</summary>
    public override async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        await status.ReadAsync(historySeconds: 10, cancellationToken);
        return 0;
    }
}
