using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>One worker, as Flower shows it: its queue, slots, running tasks and counts.</summary>
/// <remarks>
/// Everything comes from TaskService (the worker's heartbeats and the task store): the frontend
/// does not call workers' WorkerControlService, which listens inside the cluster only.
/// </remarks>
public sealed class WorkerModel(TaskServiceClient client) : TaskServicePageModel
{
    /// <summary>Most running tasks read to find this worker's (ListTasks' page limit; the cluster's slots are far fewer).</summary>
    private const int MaxRunningRead = 1000;

    /// <summary>The worker id, from <c>?id=</c>.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Id { get; set; }

    /// <summary>The worker; null when unknown or when the service is down.</summary>
    public WorkerStatus? Worker { get; private set; }

    /// <summary>The tasks the store has running on this worker, oldest first.</summary>
    public IReadOnlyList<LcsTask> Running { get; private set; } = [];

    /// <summary>When the status was read.</summary>
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task<IActionResult> OnGetAsync()
    {
        if (string.IsNullOrWhiteSpace(Id)) return RedirectToPage("/Cluster");
        var status = await CallAsync(async () => await client.GetClusterStatusAsync(new GetClusterStatusRequest(), cancellationToken: HttpContext.RequestAborted));
        if (status is null) return Page();
        Worker = status.Workers.SingleOrDefault(w => w.WorkerId == Id);
        if (Worker is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        var running = await CallAsync(async () => await client.ListTasksAsync(
            new ListTasksRequest { PageSize = MaxRunningRead, States = { TaskState.Running }, Queue = Worker.Queue },
            cancellationToken: HttpContext.RequestAborted));
        Running = running?.Tasks.Where(t => t.WorkerId == Id).Reverse().ToList() ?? [];
        return Page();
    }
}
