using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>The task list: newest first, paged, filtered by state and queue, updated live by site.js.</summary>
public sealed class TasksModel(TaskServiceClient client) : TaskServicePageModel
{
    public const int PageSize = 25;

    /// <summary>State filter (<c>running</c>, <c>succeeded</c>, ...); empty for all.</summary>
    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    /// <summary>Queue filter (<c>small</c> or <c>large</c>); empty for both.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Queue { get; set; }

    /// <summary>Where this page starts (the previous page's next-page token).</summary>
    [BindProperty(SupportsGet = true)]
    public string? PageToken { get; set; }

    /// <summary>This page of tasks; null when the service is down.</summary>
    public ListTasksResponse? Tasks { get; private set; }

    /// <summary>The time durations of running tasks are measured against.</summary>
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task OnGetAsync() => Tasks = await LoadAsync();

    /// <summary>Only the table rows, for the live update script.</summary>
    public async Task<IActionResult> OnGetRowsAsync()
    {
        Tasks = await LoadAsync();
        return Tasks is null ? StatusCode(StatusCodes.Status503ServiceUnavailable) : Partial("_TaskRows", this);
    }

    private Task<ListTasksResponse?> LoadAsync()
    {
        var request = new ListTasksRequest
        {
            PageSize = PageSize,
            PageToken = PageToken ?? "",
            Queue = TaskDisplay.ParseQueue(Queue),
            IncludeTotalSize = true, // the page shows "N task(s) match"
        };
        if (TaskDisplay.ParseState(State) is { } state)
        {
            request.States.Add(state);
        }
        return CallAsync(async () => await client.ListTasksAsync(request, cancellationToken: HttpContext.RequestAborted));
    }
}
