using System.Diagnostics.CodeAnalysis;
using CeleryKube.TaskService.Domain;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace CeleryKube.TaskService.Api;

/// <summary>The errors task-service returns, each with its precise status code.</summary>
public static class RpcErrors
{
    /// <summary>INVALID_ARGUMENT with a google.rpc.BadRequest naming the field.</summary>
    [DoesNotReturn]
    public static void InvalidArgument(string field, string description) => throw FieldError(Code.InvalidArgument, field, description);

    /// <summary>RESOURCE_EXHAUSTED: an input over a configured limit, with the field named as for INVALID_ARGUMENT.</summary>
    [DoesNotReturn]
    public static void ResourceExhausted(string field, string description) => throw FieldError(Code.ResourceExhausted, field, description);

    private static RpcException FieldError(Code code, string field, string description) =>
        new Google.Rpc.Status
        {
            Code = (int)code,
            Message = $"{field}: {description}",
            Details = { Any.Pack(new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = description } } }) },
        }.ToRpcException();

    /// <summary>The status of a domain rejection: NOT_FOUND or FAILED_PRECONDITION, with its message.</summary>
    public static RpcException From(TaskRejection rejection) => new(new Grpc.Core.Status(rejection.Kind switch
    {
        RejectionKind.NotFound => StatusCode.NotFound,
        RejectionKind.FailedPrecondition => StatusCode.FailedPrecondition,
        RejectionKind.PermissionDenied => StatusCode.PermissionDenied,
        _ => StatusCode.Internal,
    }, rejection.Message));

    /// <summary>RESOURCE_EXHAUSTED: task-service is at a configured capacity; the client may retry later.</summary>
    [DoesNotReturn]
    public static void AtCapacity(string message) => throw new RpcException(new Grpc.Core.Status(StatusCode.ResourceExhausted, message));

    /// <summary>UNAVAILABLE: a dependency is down; the client may retry.</summary>
    [DoesNotReturn]
    public static void Unavailable(string message) => throw new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, message));

    /// <summary>Validates a task id field: present and a UUID.</summary>
    public static string RequireTaskId(string? id, string field = "id")
    {
        if (string.IsNullOrWhiteSpace(id)) InvalidArgument(field, "is required");
        if (!Guid.TryParse(id, out var guid)) InvalidArgument(field, $"'{Truncate(id)}' is not a task id (a UUID)");
        return guid.ToString();
    }

    /// <summary>Shortens user input quoted in an error message.</summary>
    public static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
