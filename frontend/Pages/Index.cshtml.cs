using CeleryKube.Protos;
using System.ComponentModel.DataAnnotations;
using System.Text;
using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Grpc.Core;
using GrpcStatusCode = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Mvc;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Pages;

/// <summary>The submit form: two texts (typed or uploaded) and an algorithm.</summary>
public sealed class IndexModel(TaskServiceClient client) : TaskServicePageModel
{
    private static readonly TimeSpan SubmitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What the person entered.</summary>
    [BindProperty]
    public SubmitForm Form { get; set; } = new();

    /// <summary>Shows an empty form with a fresh idempotency key.</summary>
    public void OnGet() => Form.IdempotencyKey = TaskDisplay.FormKeyPrefix + Guid.NewGuid();

    /// <summary>Submits the task; on success goes to the task's page, which follows it live.</summary>
    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var textA = await ReadTextAsync(Form.FileA, Form.TextA, nameof(SubmitForm.FileA), cancellationToken);
        var textB = await ReadTextAsync(Form.FileB, Form.TextB, nameof(SubmitForm.FileB), cancellationToken);
        if (string.IsNullOrEmpty(textA) && !HasError(nameof(SubmitForm.FileA)))
        {
            AddError(nameof(SubmitForm.TextA), "Enter the first text or choose a file.");
        }
        if (string.IsNullOrEmpty(textB) && !HasError(nameof(SubmitForm.FileB)))
        {
            AddError(nameof(SubmitForm.TextB), "Enter the second text or choose a file.");
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var request = new SubmitLcsRequest
        {
            TextA = textA,
            TextB = textB,
            Algorithm = Form.Algorithm,
            IdempotencyKey = Form.IdempotencyKey ?? "",
        };
        try
        {
            var response = await client.SubmitLcsAsync(request, deadline: DateTime.UtcNow + SubmitTimeout, cancellationToken: cancellationToken);
            return RedirectToPage("/Task", new { id = response.Task.Id });
        }
        catch (RpcException ex) when (ex.IsServiceDown())
        {
            TaskServiceDown = true;
            AddError("", "TaskService is unavailable, so the task was not submitted. Your texts are kept: try again in a moment.");
        }
        catch (RpcException ex) when (ex.StatusCode is GrpcStatusCode.ResourceExhausted or GrpcStatusCode.InvalidArgument)
        {
            ShowRefusal(ex, textA, textB);
        }
        catch (RpcException ex)
        {
            AddError("", $"TaskService refused the task: {ex.Status.Detail}");
        }
        return Page();
    }

    /// <summary>Puts the service's field violations next to the fields they name.</summary>
    private void ShowRefusal(RpcException ex, string textA, string textB)
    {
        var violations = ex.FieldViolations();
        var prefix = ex.StatusCode == GrpcStatusCode.ResourceExhausted ? "Too large: " : "";
        foreach (var (field, description) in violations)
        {
            AddError(FormField(field), prefix + description);
        }
        if (violations.Count > 0)
        {
            return;
        }
        // No details: point at the longer text when the refusal is about size.
        if (ex.StatusCode == GrpcStatusCode.ResourceExhausted)
        {
            var field = CodePoints.Count(textA) >= CodePoints.Count(textB) ? nameof(SubmitForm.TextA) : nameof(SubmitForm.TextB);
            AddError(field, $"Too large: {ex.Status.Detail}");
        }
        else
        {
            AddError("", ex.Status.Detail);
        }
    }

    private static string FormField(string protoField) => protoField switch
    {
        "text_a" => nameof(SubmitForm.TextA),
        "text_b" => nameof(SubmitForm.TextB),
        "algorithm" => nameof(SubmitForm.Algorithm),
        _ => "",
    };

    private bool HasError(string field) =>
        ModelState.TryGetValue($"{nameof(Form)}.{field}", out var entry) && entry.Errors.Count > 0;

    private void AddError(string field, string message) =>
        ModelState.AddModelError(field == "" ? "" : $"{nameof(Form)}.{field}", message);

    /// <summary>An uploaded file wins over the textarea; the file must be UTF-8 text.</summary>
    private async Task<string> ReadTextAsync(IFormFile? file, string? typed, string fileField, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return typed ?? "";
        }
        using var reader = new StreamReader(file.OpenReadStream(), new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        try
        {
            return await reader.ReadToEndAsync(cancellationToken);
        }
        catch (DecoderFallbackException)
        {
            AddError(fileField, $"{file.FileName} is not UTF-8 text.");
            return "";
        }
    }
}

/// <summary>The fields of the submit form.</summary>
public sealed class SubmitForm
{
    /// <summary>The first text, typed or pasted.</summary>
    [Display(Name = "First text")]
    public string? TextA { get; set; }

    /// <summary>The first text as a file (used instead of <see cref="TextA"/> when chosen).</summary>
    [Display(Name = "or upload the first text")]
    public IFormFile? FileA { get; set; }

    /// <summary>The second text, typed or pasted.</summary>
    [Display(Name = "Second text")]
    public string? TextB { get; set; }

    /// <summary>The second text as a file (used instead of <see cref="TextB"/> when chosen).</summary>
    [Display(Name = "or upload the second text")]
    public IFormFile? FileB { get; set; }

    /// <summary>How to compute it.</summary>
    [Display(Name = "Algorithm")]
    public LcsAlgorithm Algorithm { get; set; } = LcsAlgorithm.SuffixArray;

    /// <summary>
    /// Generated when the form is shown, so a double click or a retried request creates one task.
    /// </summary>
    public string? IdempotencyKey { get; set; }
}
