using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Grpc.Core;
using GrpcStatusCode = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>
/// One task: state, progress, timings, the common substring in a window of each text (cut by
/// task-service, whatever the texts' size), its history, Cancel and Retry. The full texts are
/// read only when the person asks for them.
/// An unknown or malformed id gets the error page (404 or 400) through the one error mapping.
/// </summary>
public sealed class TaskModel(TaskServiceClient client) : TaskServicePageModel
{
    /// <summary>Most code points of a text the page renders in full; beyond that it says so.</summary>
    public const int MaxShownCodePoints = 200_000;

    /// <summary>Longest input shown without an expander.</summary>
    public const int ShortTextCodePoints = 400;

    /// <summary>The task id from the URL.</summary>
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    /// <summary><c>full</c> when the person asked for the input texts.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Texts { get; set; }

    /// <summary>The task with the windows around its match; null when the service is down.</summary>
    public LcsTask? Task { get; private set; }

    /// <summary>The input texts, when the person asked for them and they were read.</summary>
    public (string TextA, string TextB)? FullTexts { get; private set; }

    /// <summary>The task's state changes, oldest first; null when they could not be read.</summary>
    public IReadOnlyList<TaskHistoryEntry>? History { get; private set; }

    /// <summary>The time a running task's duration is measured against.</summary>
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task<IActionResult> OnGetAsync()
    {
        await LoadAsync();
        return Page();
    }

    /// <summary>The page's content without the layout, for the live script after a state change.</summary>
    public async Task<IActionResult> OnGetViewAsync()
    {
        await LoadAsync();
        return Task is null ? StatusCode(StatusCodes.Status503ServiceUnavailable) : Partial("_TaskView", this);
    }

    /// <summary>Requests cancellation and shows the task again.</summary>
    public async Task<IActionResult> OnPostCancelAsync()
    {
        try
        {
            var response = await CallAsync(async () => await client.CancelTaskAsync(
                new CancelTaskRequest { Id = Id }, cancellationToken: HttpContext.RequestAborted));
            TempData["Message"] = response is null
                ? "TaskService is unavailable; the task was not cancelled. Try again in a moment."
                : response.Task.State == TaskState.Cancelled ? "Task cancelled." : "Cancellation requested; the worker stops within a moment.";
        }
        catch (RpcException ex) when (ex.StatusCode is GrpcStatusCode.FailedPrecondition or GrpcStatusCode.NotFound)
        {
            TempData["Message"] = $"Not cancelled: {ex.Status.Detail}";
        }
        return RedirectToPage("/Task", new { id = Id });
    }

    /// <summary>Runs a FAILED or CANCELLED task again and shows it, following its new run.</summary>
    public async Task<IActionResult> OnPostRetryAsync()
    {
        try
        {
            var response = await CallAsync(async () => await client.RetryTasksAsync(
                new RetryTasksRequest { Ids = { Id } }, cancellationToken: HttpContext.RequestAborted));
            TempData["Message"] = response is null ? "TaskService is unavailable; the task was not retried. Try again in a moment."
                : response.RetriedCount == 1 ? "Task retried: it runs again with the same inputs." : "Not retried: the task no longer exists.";
        }
        catch (RpcException ex) when (ex.StatusCode is GrpcStatusCode.FailedPrecondition or GrpcStatusCode.NotFound)
        {
            TempData["Message"] = $"Not retried: {ex.Status.Detail}";
        }
        return RedirectToPage("/Task", new { id = Id });
    }

    /// <summary>The match in the window task-service cut from a text of <paramref name="textLength"/> code points.</summary>
    public Highlight InContext(TextExcerpt excerpt, int textLength) => Highlight.Of(excerpt, Task?.Result?.Length ?? 0, textLength);

    /// <summary>The whole text (up to <see cref="MaxShownCodePoints"/>) with the match marked.</summary>
    public Highlight Whole(string text, int offset) =>
        Highlight.Around(text, offset, Task?.Result?.Length ?? 0, MaxShownCodePoints / 2, MaxShownCodePoints);

    /// <summary>This page's address with the texts asked for.</summary>
    public string TextsUrl => Url.Page("/Task", new { id = Id, texts = "full" })!;

    /// <summary>The address the live script fetches the content from.</summary>
    public string ViewUrl => Url.Page("/Task", "View", new { id = Id, texts = Texts })!;

    private async Task LoadAsync()
    {
        await LoadTaskAsync();
        if (Task is null) return;
        // Read after the task, so the history is never older than the state shown beside it (the
        // live script fetches again until the state matches the latest event).
        var history = await CallAsync(async () => await client.GetTaskHistoryAsync(
            new GetTaskHistoryRequest { Id = Id }, cancellationToken: HttpContext.RequestAborted));
        History = history?.Entries;
    }

    private async Task LoadTaskAsync()
    {
        var view = await CallAsync(async () => await client.GetTaskAsync(
            new GetTaskRequest { Id = Id, View = TaskView.MatchContext }, cancellationToken: HttpContext.RequestAborted));
        Task = view?.Task;
        if (Task is null || Texts != "full") return;
        var full = await CallAsync(async () => await client.GetTaskAsync(
            new GetTaskRequest { Id = Id, View = TaskView.Full }, cancellationToken: HttpContext.RequestAborted));
        if (full is not null) FullTexts = (full.Task.TextA, full.Task.TextB);
    }
}
