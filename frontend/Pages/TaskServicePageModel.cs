using CeleryKube.Frontend.Services;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CeleryKube.Frontend.Pages;

/// <summary>
/// A page that talks to TaskService. When the service is down the page still renders, with the
/// banner from the layout and an automatic retry, instead of an error page.
/// </summary>
public abstract class TaskServicePageModel : PageModel
{
    /// <summary>The <see cref="Microsoft.AspNetCore.Mvc.ViewFeatures.ViewDataDictionary"/> key the layout reads.</summary>
    public const string ServiceDownKey = "TaskServiceDown";

    /// <summary>True when a call on this request found the service unreachable.</summary>
    public bool TaskServiceDown
    {
        get => ViewData[ServiceDownKey] is true;
        protected set => ViewData[ServiceDownKey] = value;
    }

    /// <summary>Runs <paramref name="call"/>; on Unavailable or DeadlineExceeded marks the page and returns null.</summary>
    protected async Task<T?> CallAsync<T>(Func<Task<T>> call) where T : class
    {
        try
        {
            return await call();
        }
        catch (RpcException ex) when (ex.IsServiceDown())
        {
            TaskServiceDown = true;
            return null;
        }
    }
}
