using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>
/// Tasks that failed because the broker dead-lettered their job message, newest first, with the
/// reason; and how many messages wait on the dead-letter queue for task-service to record them.
/// </summary>
public sealed class DeadLettersModel(TaskServiceClient client) : TaskServicePageModel
{
    public const int PageSize = 25;

    /// <summary>Where this page starts (the previous page's next-page token).</summary>
    [BindProperty(SupportsGet = true)]
    public string? PageToken { get; set; }

    /// <summary>This page of dead-lettered tasks; null when the service is down.</summary>
    public ListTasksResponse? Tasks { get; private set; }

    /// <summary>The dead-letter queue as the broker reports it; null when the broker or the service is unreachable.</summary>
    public QueueStatus? DeadLetterQueue { get; private set; }

    public async Task OnGetAsync()
    {
        var request = new ListTasksRequest { PageSize = PageSize, PageToken = PageToken ?? "", DeadLettered = true, IncludeTotalSize = true };
        var tasksCall = CallAsync(async () => await client.ListTasksAsync(request, cancellationToken: HttpContext.RequestAborted));
        var statusCall = CallAsync(async () => await client.GetClusterStatusAsync(new GetClusterStatusRequest(), cancellationToken: HttpContext.RequestAborted));
        Tasks = await tasksCall;
        var status = await statusCall;
        // The one queue that carries no task queue is the dead-letter queue (GetClusterStatus' contract).
        DeadLetterQueue = status is { BrokerAvailable: true } ? status.Queues.FirstOrDefault(q => q.Queue == TaskQueue.Unspecified) : null;
    }
}
