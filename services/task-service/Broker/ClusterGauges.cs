using System.Diagnostics.Metrics;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;
using CeleryKube.TaskService.Persistence;

namespace CeleryKube.TaskService.Broker;

/// <summary>
/// The queue-depth and running-task gauges on <c>/metrics</c>, read from the broker and the store
/// when they are scraped (observable callbacks), so a scrape sees the values of that moment and no
/// loop polls between scrapes. While the broker or the store does not answer, the gauge reports
/// nothing rather than an old value.
/// </summary>
public sealed class ClusterGauges
{
    /// <summary>How long one scrape may wait for the broker or the store.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Registers the gauges on <see cref="Telemetry.Meter"/>.</summary>
    public ClusterGauges(QueueStatusReader queues, TaskReader reader, ILogger<ClusterGauges> logger)
    {
        Telemetry.Meter.CreateObservableGauge("celerykube.queue.depth",
            () => Read(ct => queues.ReadAsync(ct), logger)?.Select(q => new Measurement<long>(q.Depth, new KeyValuePair<string, object?>("queue", q.Name)))
                  ?? [],
            description: "Messages ready in each RabbitMQ queue");
        Telemetry.Meter.CreateObservableGauge("celerykube.tasks.running",
            () => Read(async ct => (int?)(await reader.CountsAsync(ct)).ByState.GetValueOrDefault(TaskState.Running), logger) is { } running
                ? [new Measurement<int>(running)]
                : Array.Empty<Measurement<int>>(),
            description: "Tasks in RUNNING state");
    }

    // Observable callbacks are synchronous; each read is bounded by ReadTimeout.
    private static T? Read<T>(Func<CancellationToken, Task<T?>> read, ILogger logger)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        try
        {
            return read(timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            logger.LogDebug("a gauge read failed: {Error}", ex.Message);
            return default;
        }
    }
}
