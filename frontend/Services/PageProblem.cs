using Grpc.Core;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// What the error page tells a person: an HTTP status, a headline and what to do. The one place
/// where gRPC status codes become HTTP status codes for the pages.
/// </summary>
/// <param name="StatusCode">The HTTP status of the response.</param>
/// <param name="Title">The headline.</param>
/// <param name="Message">What was wrong, in words a person can act on.</param>
public sealed record PageProblem(int StatusCode, string Title, string Message)
{
    private static readonly object ItemsKey = new();

    /// <summary>The HTTP status for a TaskService error that no page handled itself.</summary>
    public static int HttpStatus(StatusCode code) => code switch
    {
        Grpc.Core.StatusCode.InvalidArgument or Grpc.Core.StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        Grpc.Core.StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        Grpc.Core.StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        Grpc.Core.StatusCode.NotFound => StatusCodes.Status404NotFound,
        Grpc.Core.StatusCode.AlreadyExists or Grpc.Core.StatusCode.FailedPrecondition or Grpc.Core.StatusCode.Aborted => StatusCodes.Status409Conflict,
        Grpc.Core.StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        Grpc.Core.StatusCode.Unimplemented => StatusCodes.Status501NotImplemented,
        Grpc.Core.StatusCode.Unavailable or Grpc.Core.StatusCode.DeadlineExceeded => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>
    /// The HTTP status for any exception that reached the exception handler; Kestrel's own
    /// refusals (a chunked body over the limit: 413) keep their status, also when model binding
    /// wrapped them.
    /// </summary>
    public static int HttpStatus(Exception exception) => exception switch
    {
        RpcException rpc => HttpStatus(rpc.StatusCode),
        _ when exception.GetBaseException() is BadHttpRequestException bad => bad.StatusCode,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>
    /// The problem a TaskService error describes. For refusals of the request (4xx) the service's
    /// own words are shown, field by field when it named the fields; for failures (5xx) they stay in the log.
    /// </summary>
    public static PageProblem From(RpcException ex)
    {
        var status = HttpStatus(ex.StatusCode);
        if (status >= 500)
        {
            return ForStatus(status);
        }
        var violations = ex.FieldViolations();
        var message = violations.Count > 0
            ? string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}"))
            : ex.Status.Detail;
        return ForStatus(status) with { Message = message };
    }

    /// <summary>A generic problem for an HTTP status (unknown paths, unexpected failures).</summary>
    public static PageProblem ForStatus(int status) => status switch
    {
        400 => new(status, "This request is not valid", "The address or form holds something this site cannot use."),
        401 or 403 => new(status, "Not allowed", "You may not do this."),
        404 => new(status, "Not found", "There is nothing at this address. The task may have been deleted."),
        409 => new(status, "Not possible now", "The task is not in a state that allows this."),
        413 => new(status, "Too large", "The request is larger than this site accepts."),
        429 => new(status, "Too much at once", "TaskService refused the request for now. Try again in a moment."),
        503 => new(status, "TaskService is unavailable", "Try again in a moment."),
        _ => new(status, "Something went wrong", "The page could not be shown. The error was logged."),
    };

    /// <summary>Makes <paramref name="problem"/> what the error page shows for this request.</summary>
    public static void Attach(HttpContext context, PageProblem problem) => context.Items[ItemsKey] = problem;

    /// <summary>The problem attached to this request, if any.</summary>
    public static PageProblem? Attached(HttpContext context) => context.Items[ItemsKey] as PageProblem;
}
