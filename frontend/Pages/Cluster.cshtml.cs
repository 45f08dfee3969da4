using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>What Flower shows Celery users: queues, workers and recent throughput.</summary>
public sealed class ClusterModel(TaskServiceClient client) : TaskServicePageModel
{
    /// <summary>How far back the chart goes.</summary>
    public static readonly TimeSpan History = TimeSpan.FromMinutes(10);

    /// <summary>Most running tasks read to count them per worker (ListTasks' page limit).</summary>
    private const int MaxRunningRead = 1000;

    /// <summary>The status; null when the service is down.</summary>
    public GetClusterStatusResponse? Status { get; private set; }

    /// <summary>The throughput chart laid out for SVG.</summary>
    public ThroughputChart? Chart { get; private set; }

    /// <summary>Running tasks in the store, by worker id.</summary>
    public IReadOnlyDictionary<string, int> RunningByWorker { get; private set; } = new Dictionary<string, int>();

    /// <summary>Running tasks in the store, from the same read as <see cref="RunningByWorker"/>.</summary>
    public int Running { get; private set; }

    /// <summary>When the status was read.</summary>
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task OnGetAsync()
    {
        // A worker's own "active" count is as old as its last heartbeat (up to 5 s), while the
        // state counts are read now: a worker that finished a task a moment ago looked busy next
        // to "Running 0". Both numbers shown come from one read of the running tasks instead.
        var running = new ListTasksRequest { PageSize = MaxRunningRead, States = { TaskState.Running }, IncludeTotalSize = true };
        var statusCall = CallAsync(async () => await client.GetClusterStatusAsync(
            new GetClusterStatusRequest { HistorySeconds = (int)History.TotalSeconds }, cancellationToken: HttpContext.RequestAborted));
        var runningCall = CallAsync(async () => await client.ListTasksAsync(running, cancellationToken: HttpContext.RequestAborted));
        Status = await statusCall;
        var runningTasks = await runningCall;
        if (Status is null || runningTasks is null)
        {
            Status = null;
            return;
        }
        Chart = new ThroughputChart(Status.Throughput, Now, History);
        Running = runningTasks.TotalSize;
        RunningByWorker = runningTasks.Tasks.GroupBy(t => t.WorkerId).ToDictionary(g => g.Key, g => g.Count());
    }

    /// <summary>Tasks in <paramref name="state"/>; RUNNING from the same read as the workers' busy slots.</summary>
    public long Count(TaskState state) =>
        state == TaskState.Running ? Running : Status!.StateCounts.Where(c => c.State == state).Sum(c => (long)c.Count);

    /// <summary>Tasks the store says <paramref name="worker"/> is running.</summary>
    public int Busy(WorkerStatus worker) => RunningByWorker.GetValueOrDefault(worker.WorkerId);

    /// <summary>How long ago a heartbeat arrived, e.g. <c>3 s ago</c>.</summary>
    public string Ago(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "never" : TaskDisplay.Format(Now - time.ToDateTimeOffset()) + " ago";
}
