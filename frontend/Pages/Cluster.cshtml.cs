using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>What Flower shows Celery users: queues, workers and recent throughput.</summary>
public sealed class ClusterModel(TaskServiceClient client) : TaskServicePageModel
{
    /// <summary>How far back the chart goes.</summary>
    public static readonly TimeSpan History = TimeSpan.FromMinutes(10);

    /// <summary>The status; null when the service is down.</summary>
    public GetClusterStatusResponse? Status { get; private set; }

    /// <summary>The throughput chart laid out for SVG.</summary>
    public ThroughputChart? Chart { get; private set; }

    /// <summary>When the status was read.</summary>
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task OnGetAsync()
    {
        Status = await CallAsync(async () => await client.GetClusterStatusAsync(
            new GetClusterStatusRequest { HistorySeconds = (int)History.TotalSeconds }, cancellationToken: HttpContext.RequestAborted));
        if (Status is not null) Chart = new ThroughputChart(Status.Throughput, Now, History);
    }

    /// <summary>Tasks in <paramref name="state"/>.</summary>
    public long Count(TaskState state) => Status!.StateCounts.Where(c => c.State == state).Sum(c => (long)c.Count);
}
