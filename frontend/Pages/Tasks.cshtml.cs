using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>The task list: newest or oldest first, paged, searched by id, filtered by state and queue, updated live by site.js; bulk retry.</summary>
public sealed class TasksModel(TaskServiceClient client) : TaskServicePageModel
{
    public const int PageSize = 25;

    /// <summary>State filter (<c>running</c>, <c>succeeded</c>, ...); empty for all.</summary>
    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    /// <summary>Queue filter (<c>small</c> or <c>large</c>); empty for both.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Queue { get; set; }

    /// <summary>Search: the start of a task id; empty for every task.</summary>
    [BindProperty(SupportsGet = true, Name = "id")]
    public string? IdPrefix { get; set; }

    /// <summary><c>oldest</c> for oldest first; anything else is newest first.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    /// <summary>True when the list runs oldest first.</summary>
    public bool OldestFirst => Sort == "oldest";

    /// <summary>Why TaskService refused the search, shown next to the search field.</summary>
    public string? SearchError { get; private set; }

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

    /// <summary>
    /// Runs the selected tasks (<paramref name="ids"/>), or every FAILED task
    /// (<paramref name="allFailed"/>), again, and shows the list with what happened.
    /// </summary>
    public async Task<IActionResult> OnPostRetryAsync(List<string> ids, bool allFailed)
    {
        if (!allFailed && ids.Count == 0)
        {
            TempData["Message"] = "Select the failed or cancelled tasks to retry first.";
            return RedirectToPage("/Tasks", RouteValues());
        }
        var request = new RetryTasksRequest { AllFailed = allFailed };
        if (!allFailed) request.Ids.AddRange(ids);
        try
        {
            var response = await CallAsync(async () => await client.RetryTasksAsync(request, cancellationToken: HttpContext.RequestAborted));
            TempData["Message"] = response is null ? "TaskService is unavailable; nothing was retried."
                : response.RetriedCount == 0 ? "There were no failed tasks to retry."
                : $"Retried {response.RetriedCount} task(s): they run again with the same inputs.";
        }
        catch (RpcException ex) when (ex.StatusCode is Grpc.Core.StatusCode.FailedPrecondition or Grpc.Core.StatusCode.InvalidArgument)
        {
            TempData["Message"] = $"Nothing was retried: {ex.Status.Detail}";
        }
        return RedirectToPage("/Tasks", RouteValues());
    }

    /// <summary>The route values that keep this list's search, filters and order (for pager links).</summary>
    public Dictionary<string, string> RouteValues(string? pageToken = null, string? sort = null) =>
        new[] { ("state", State), ("queue", Queue), ("id", IdPrefix), ("sort", sort ?? Sort), ("pageToken", pageToken) }
            .Where(p => !string.IsNullOrEmpty(p.Item2)).ToDictionary(p => p.Item1, p => p.Item2!);

    private async Task<ListTasksResponse?> LoadAsync()
    {
        var request = new ListTasksRequest
        {
            PageSize = PageSize,
            PageToken = PageToken ?? "",
            Queue = TaskDisplay.ParseQueue(Queue),
            IdPrefix = IdPrefix?.Trim() ?? "",
            OldestFirst = OldestFirst,
            IncludeTotalSize = true, // the page shows "N task(s) match"
        };
        if (TaskDisplay.ParseState(State) is { } state)
        {
            request.States.Add(state);
        }
        try
        {
            return await CallAsync(async () => await client.ListTasksAsync(request, cancellationToken: HttpContext.RequestAborted));
        }
        catch (RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.InvalidArgument && ex.FieldViolations().Any(v => v.Field == "id_prefix"))
        {
            // TaskService owns the rule for what an id looks like; its words go next to the field.
            SearchError = ex.FieldViolations().First(v => v.Field == "id_prefix").Description;
            return new ListTasksResponse();
        }
    }
}
