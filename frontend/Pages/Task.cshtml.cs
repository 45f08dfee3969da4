using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Grpc.Core;
using GrpcStatusCode = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>One task: its inputs with the common substring highlighted, timings, and Cancel.</summary>
public sealed class TaskModel(TaskServiceClient client) : TaskServicePageModel
{
    /// <summary>Code points shown on each side of the match in the "in context" view.</summary>
    public const int ContextCodePoints = 120;

    /// <summary>Most code points of a text the page renders in full; beyond that it says so.</summary>
    public const int MaxShownCodePoints = 200_000;

    /// <summary>Longest input shown without an expander.</summary>
    public const int ShortTextCodePoints = 400;

    /// <summary>The task id from the URL.</summary>
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    /// <summary>The task, with its texts; null when not found or the service is down.</summary>
    public LcsTask? Task { get; private set; }

    /// <summary>True when the service answered NOT_FOUND (or the id is malformed).</summary>
    public bool TaskMissing { get; private set; }

    /// <summary>The time a running task's duration is measured against.</summary>
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    /// <summary>Shows the task.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        try
        {
            var response = await CallAsync(async () => await client.GetTaskAsync(
                new GetTaskRequest { Id = Id, View = TaskView.Full }, cancellationToken: HttpContext.RequestAborted));
            Task = response?.Task;
        }
        catch (RpcException ex) when (ex.StatusCode is GrpcStatusCode.NotFound or GrpcStatusCode.InvalidArgument)
        {
            TaskMissing = true;
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        return Page();
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

    /// <summary>The text around the match, for the "in context" view.</summary>
    public Highlight InContext(string text, int offset) =>
        Highlight.Around(text, offset, Task?.Result?.Length ?? 0, ContextCodePoints, maxMatch: 600);

    /// <summary>The whole text (up to <see cref="MaxShownCodePoints"/>) with the match marked.</summary>
    public Highlight Whole(string text, int offset) =>
        Highlight.Around(text, offset, Task?.Result?.Length ?? 0, MaxShownCodePoints / 2, maxMatch: MaxShownCodePoints);
}
