using CeleryKube.Protos;
using System.Diagnostics.Metrics;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;
using CeleryKube.Worker.Execution;
using CeleryKube.Worker.Options;
using CeleryKube.Worker.State;

namespace CeleryKube.Worker;

/// <summary>
/// The worker's instruments on <see cref="Telemetry.Meter"/>, exported on <c>/metrics</c>, e.g.
/// <c>celerykube_worker_tasks_succeeded_total{queue="large"}</c>.
/// </summary>
public sealed class WorkerMetrics
{
    private readonly Counter<long> started = Telemetry.Meter.CreateCounter<long>("celerykube.worker.tasks.started", description: "Attempts this worker started");
    private readonly Counter<long> succeeded = Telemetry.Meter.CreateCounter<long>("celerykube.worker.tasks.succeeded", description: "Attempts that produced a result");
    private readonly Counter<long> failed = Telemetry.Meter.CreateCounter<long>("celerykube.worker.tasks.failed", description: "Attempts that failed (exception or time limit)");
    private readonly Counter<long> cancelled = Telemetry.Meter.CreateCounter<long>("celerykube.worker.tasks.cancelled", description: "Attempts stopped on request");
    private readonly Counter<long> requeued = Telemetry.Meter.CreateCounter<long>("celerykube.worker.tasks.requeued", description: "Deliveries given back to the queue (shutdown, ResultSink unreachable)");
    // Buckets from 10 ms (small jobs) to the large queue's 20 minute limit.
    private readonly Histogram<double> runTime = Telemetry.Meter.CreateHistogram("celerykube.worker.task.run.duration", "s",
        "Run time of attempts, by outcome", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200] });
    private readonly KeyValuePair<string, object?> queueTag;

    /// <summary>Registers the in-flight gauge, read from <paramref name="state"/>.</summary>
    public WorkerMetrics(WorkerOptions settings, WorkerState state)
    {
        queueTag = new("queue", settings.TaskQueue.Name());
        Telemetry.Meter.CreateObservableGauge("celerykube.worker.tasks.in_flight",
            () => new Measurement<int>(state.Active, queueTag), description: "Attempts running on this worker now");
    }

    public void Started() => started.Add(1, queueTag);

    public void Requeued() => requeued.Add(1, queueTag);

    /// <summary>An attempt ended after <paramref name="runTimeElapsed"/>.</summary>
    public void Finished(JobOutcome outcome, TimeSpan runTimeElapsed)
    {
        var counter = outcome switch
        {
            JobOutcome.Succeeded => succeeded,
            JobOutcome.Failed => failed,
            JobOutcome.Cancelled => cancelled,
            _ => null,
        };
        counter?.Add(1, queueTag);
        runTime.Record(runTimeElapsed.TotalSeconds, queueTag, new KeyValuePair<string, object?>("outcome", outcome.Label));
    }
}
