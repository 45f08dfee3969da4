using System.Diagnostics.Metrics;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;

namespace CeleryKube.TaskService.Domain;

/// <summary>task-service's instruments, exported on <c>/metrics</c> (e.g. <c>celerykube_tasks_submitted_total{queue="small"}</c>).</summary>
public sealed class TaskMetrics
{
    private readonly Counter<long> submitted = Telemetry.Meter.CreateCounter<long>("celerykube.tasks.submitted", description: "Tasks accepted");
    private readonly Counter<long> started = Telemetry.Meter.CreateCounter<long>("celerykube.tasks.started", description: "Attempts claimed by workers");
    private readonly Counter<long> finished = Telemetry.Meter.CreateCounter<long>("celerykube.tasks.finished", description: "Tasks that reached a final state, by state");
    private readonly Histogram<double> runTime = Telemetry.Meter.CreateHistogram<double>("celerykube.task.run.duration", "s", "Run time of finished attempts");
    public void Submitted(TaskQueue queue) => submitted.Add(1, Tag(queue));

    public void Started(TaskQueue queue) => started.Add(1, Tag(queue));

    public void Finished(TaskQueue queue, TaskState state, TimeSpan? runDuration)
    {
        finished.Add(1, Tag(queue), new KeyValuePair<string, object?>("state", state.ToString().ToLowerInvariant()));
        if (runDuration is { } d) runTime.Record(d.TotalSeconds, Tag(queue));
    }

    private static KeyValuePair<string, object?> Tag(TaskQueue queue) =>
        new("queue", queue == TaskQueue.Unspecified ? "none" : QueueTopology.RoutingKey(queue));
}
