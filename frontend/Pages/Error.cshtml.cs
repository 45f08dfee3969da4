using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CeleryKube.Frontend.Pages;

/// <summary>The page for unexpected failures (never for validation errors or an unreachable service).</summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
[IgnoreAntiforgeryToken]
public sealed class ErrorModel : PageModel
{
    /// <summary>The trace or request id to quote when reporting the problem.</summary>
    public string? RequestId { get; private set; }

    /// <summary>Shows the page.</summary>
    public void OnGet() => RequestId = Activity.Current?.Id ?? HttpContext.TraceIdentifier;
}
