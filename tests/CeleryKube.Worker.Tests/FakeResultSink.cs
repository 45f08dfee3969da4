using System.Collections.Concurrent;
using CeleryKube.Protos.V1;
using Grpc.Core;

namespace CeleryKube.Worker.Tests;

/// <summary>
/// An in-memory ResultSinkService behind a <see cref="CallInvoker"/>: records every request and
/// answers with the configured functions (which may throw <see cref="RpcException"/>).
/// </summary>
public sealed class FakeResultSink : CallInvoker
{
    /// <summary>Every request in order, with its method name, e.g. ("StartTask", request).</summary>
    public ConcurrentQueue<(string Method, object Request)> Calls { get; } = new();

    /// <summary>Authorization headers seen.</summary>
    public ConcurrentQueue<string?> Authorizations { get; } = new();

    /// <summary>The StartTask answer.</summary>
    public Func<StartTaskRequest, StartTaskResponse> Start { get; set; } =
        _ => new StartTaskResponse { Decision = StartDecision.Proceed, Attempt = 1 };

    /// <summary>The CompleteTask answer.</summary>
    public Func<CompleteTaskRequest, CompleteTaskResponse> Complete { get; set; } =
        _ => new CompleteTaskResponse { State = TaskState.Succeeded, Applied = true };

    /// <summary>The FinishTask answer.</summary>
    public Func<FinishTaskRequest, FinishTaskResponse> Finish { get; set; } =
        _ => new FinishTaskResponse { Decision = StartDecision.Proceed, Attempt = 1, State = TaskState.Succeeded };

    /// <summary>The ReportProgress answer.</summary>
    public Func<ReportProgressRequest, ReportProgressResponse> Progress { get; set; } = _ => new ReportProgressResponse();

    /// <summary>The Heartbeat answer.</summary>
    public Func<HeartbeatRequest, HeartbeatResponse> Beat { get; set; } = _ => new HeartbeatResponse();

    /// <summary>Requests of one method.</summary>
    public IReadOnlyList<T> Requests<T>() => [.. Calls.Select(c => c.Request).OfType<T>()];

    /// <inheritdoc />
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
        CallOptions options, TRequest request)
    {
        Calls.Enqueue((method.Name, request));
        Authorizations.Enqueue(options.Headers?.GetValue("authorization"));
        Task<TResponse> response;
        try
        {
            object answer = request switch
            {
                StartTaskRequest r => Start(r),
                CompleteTaskRequest r => Complete(r),
                ReportProgressRequest r => Progress(r),
                FinishTaskRequest r => Finish(r),
                HeartbeatRequest r => Beat(r),
                _ => throw new RpcException(new Status(StatusCode.Unimplemented, method.Name)),
            };
            response = Task.FromResult((TResponse)answer);
        }
        catch (RpcException ex)
        {
            response = Task.FromException<TResponse>(ex);
        }
        return new AsyncUnaryCall<TResponse>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }

    /// <inheritdoc />
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException();

    /// <inheritdoc />
    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
        CallOptions options, TRequest request) => throw new NotSupportedException();

    /// <inheritdoc />
    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
        string? host, CallOptions options) => throw new NotSupportedException();

    /// <inheritdoc />
    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
        string? host, CallOptions options) => throw new NotSupportedException();
}
