using Google.Rpc;
using Grpc.Core;

namespace CeleryKube.Frontend.Services;

/// <summary>Reads the meaning out of TaskService errors for the pages.</summary>
public static class TaskServiceErrors
{
    /// <summary>True when the service could not be reached or did not answer in time (show the banner).</summary>
    public static bool IsServiceDown(this RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded;

    /// <summary>
    /// The <c>google.rpc.BadRequest</c> field violations the service attached, as
    /// (proto field name, description) pairs; empty when it sent none.
    /// </summary>
    public static IReadOnlyList<(string Field, string Description)> FieldViolations(this RpcException ex)
    {
        var status = ex.GetRpcStatus();
        var badRequest = status?.GetDetail<BadRequest>();
        if (badRequest is null)
        {
            return [];
        }
        return badRequest.FieldViolations.Select(v => (v.Field, v.Description)).ToList();
    }
}
