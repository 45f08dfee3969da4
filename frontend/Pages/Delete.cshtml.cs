using CeleryKube.Protos.V1;
using Grpc.Core;
using GrpcStatusCode = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>
/// Deleting tasks, in two steps: the task list posts here and this page asks for confirmation;
/// confirming posts again with <see cref="Confirmed"/> set. Works without JavaScript.
/// </summary>
public sealed class DeleteModel(TaskServiceClient client) : TaskServicePageModel
{
    /// <summary>The selected tasks.</summary>
    [BindProperty]
    public List<string> Ids { get; set; } = [];

    /// <summary>Delete every finished task instead of <see cref="Ids"/>.</summary>
    [BindProperty]
    public bool All { get; set; }

    /// <summary>Set by the confirmation button.</summary>
    [BindProperty]
    public bool Confirmed { get; set; }

    /// <summary>Why the deletion was refused, if it was.</summary>
    public string? Error { get; private set; }

    /// <summary>Nothing to confirm on a plain visit.</summary>
    public IActionResult OnGet() => RedirectToPage("/Tasks");

    /// <summary>Asks for confirmation, or deletes once confirmed.</summary>
    public async Task<IActionResult> OnPostAsync()
    {
        if (!All && Ids.Count == 0)
        {
            TempData["Message"] = "Select the finished tasks to delete first.";
            return RedirectToPage("/Tasks");
        }
        if (!Confirmed)
        {
            return Page();
        }

        var request = new DeleteTasksRequest { AllFinished = All };
        if (!All)
        {
            request.Ids.AddRange(Ids);
        }
        try
        {
            var response = await CallAsync(async () => await client.DeleteTasksAsync(request, cancellationToken: HttpContext.RequestAborted));
            if (response is null)
            {
                Error = "TaskService is unavailable; nothing was deleted.";
                return Page();
            }
            TempData["Message"] = $"Deleted {response.DeletedCount} task(s).";
            return RedirectToPage("/Tasks");
        }
        catch (RpcException ex) when (ex.StatusCode is GrpcStatusCode.FailedPrecondition or GrpcStatusCode.InvalidArgument)
        {
            Error = ex.Status.Detail;
            return Page();
        }
    }
}
