using System.Diagnostics;
using CeleryKube.Frontend.Services;
using Grpc.Core;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CeleryKube.Frontend.Pages;

/// <summary>
/// The error page for every request that could not be served: a TaskService refusal no page
/// handled (through <see cref="PageProblem"/>), an unknown address, a refused post, or a failure.
/// Its status code is the request's (400, 404, 413, 500, ...).
/// </summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
[IgnoreAntiforgeryToken]
[Microsoft.AspNetCore.Authorization.AllowAnonymous]
public sealed class ErrorModel : PageModel
{
    /// <summary>The trace or request id to quote when reporting the problem.</summary>
    public string? RequestId { get; private set; }

    /// <summary>What to tell the person.</summary>
    public PageProblem Problem { get; private set; } = PageProblem.ForStatus(500);

    /// <summary>Shows the page for any method (a refused post is re-run here as a post).</summary>
    public void OnGet() => Describe();

    /// <inheritdoc cref="OnGet" />
    public void OnPost() => Describe();

    private void Describe()
    {
        RequestId = Activity.Current?.Id ?? HttpContext.TraceIdentifier;
        var status = Response.StatusCode is >= 400 ? Response.StatusCode : StatusCodes.Status500InternalServerError;
        Problem = PageProblem.Attached(HttpContext)
            ?? (HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error is RpcException rpc ? PageProblem.From(rpc) : null)
            ?? PageProblem.ForStatus(status);
        Response.StatusCode = Problem.StatusCode;
    }
}
