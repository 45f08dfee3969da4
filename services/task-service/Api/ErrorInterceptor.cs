using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Persistence;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// Every call's last line: a domain rejection becomes its status (<see cref="RpcErrors.From"/>), a
/// store that is stopping or failed to commit is UNAVAILABLE (workers and clients retry that), a
/// client gone is CANCELLED, and anything else unexpected is INTERNAL with a logged cause. A
/// client never sees UNKNOWN.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    /// <inheritdoc />
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    private RpcException Map(Exception error, ServerCallContext context) => ToRpcException(error, context, logger);

    /// <summary>The status a call (or one request on a stream) ends with for <paramref name="error"/>.</summary>
    public static RpcException ToRpcException(Exception error, ServerCallContext context, ILogger logger)
    {
        switch (error)
        {
            case RpcException rpc:
                return rpc;
            case TaskRejection rejection:
                return RpcErrors.From(rejection);
            case TaskStoreUnavailableException:
                return new RpcException(new Status(StatusCode.Unavailable, error.Message));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled or its deadline passed"));
            // A client that went away mid-stream (a worker stopping or killed) aborts the connection
            // under a read: expected, and nobody is left to read the status.
            case IOException { InnerException: Microsoft.AspNetCore.Connections.ConnectionAbortedException }:
            case IOException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the client went away"));
            default:
                logger.LogError(error, "{Method} failed unexpectedly", context.Method);
                return new RpcException(new Status(StatusCode.Internal, $"task-service failed to handle the call: {error.Message}"));
        }
    }
}
