using CeleryKube.ServiceDefaults;
using System.Collections.Concurrent;
using CeleryKube.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace CeleryKube.Worker.Sink;

/// <summary>
/// The worker's reports over one long-lived ResultSinkService.StreamReports call instead of a
/// unary call each (a call costs both processes far more CPU than a message on an open stream).
/// Requests from all jobs share the stream; each waits for the response with its id. When the
/// stream breaks, its unanswered requests fail with UNAVAILABLE (which <see cref="SinkRetry"/>
/// retries) and the next request opens a new stream.
/// </summary>
public sealed class ResultSinkStream(ResultSinkService.ResultSinkServiceClient client, ResultSinkToken token,
    ILogger<ResultSinkStream> logger) : IDisposable
{
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private OpenStream? current;
    private long nextId;

    /// <summary>Sends <paramref name="request"/> and returns its answer, or throws the <see cref="RpcException"/> a unary call would have.</summary>
    public async Task<StreamReportsResponse> SendAsync(StreamReportsRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        request.Id = (ulong)Interlocked.Increment(ref nextId);
        OpenStream stream;
        var answer = new TaskCompletionSource<StreamReportsResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        await writeLock.WaitAsync(cancellationToken);
        try
        {
            stream = current is { Broken: false } open ? open : current = Open();
            stream.Pending[request.Id] = answer;
            // Never cancel a write halfway: that would break the stream for every other job.
            await stream.Call.RequestStream.WriteAsync(request, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            current?.Break();
            throw new RpcException(new Status(StatusCode.Unavailable, $"the report stream to task-service failed: {ex.Message}"));
        }
        finally
        {
            writeLock.Release();
        }
        try
        {
            var response = await answer.Task.WaitAsync(timeout, cancellationToken);
            if (response.AnswerCase == StreamReportsResponse.AnswerOneofCase.Error)
                throw new RpcException(new Status((StatusCode)response.Error.Code, response.Error.Message));
            return response;
        }
        catch (TimeoutException)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"task-service did not answer within {timeout.TotalSeconds:0.#} s"));
        }
        finally
        {
            stream.Pending.TryRemove(request.Id, out _);
        }
    }

    private OpenStream Open()
    {
        var call = client.StreamReports(new Metadata { { "authorization", token.BearerHeader } });
        var stream = new OpenStream(call);
        _ = ReadAsync(stream);
        return stream;
    }

    private async Task ReadAsync(OpenStream stream)
    {
        try
        {
            while (await stream.Call.ResponseStream.MoveNext(CancellationToken.None))
            {
                var response = stream.Call.ResponseStream.Current;
                if (stream.Pending.TryGetValue(response.Id, out var answer)) answer.TrySetResult(response);
            }
        }
        catch (Exception ex)
        {
            logger.LogDebug("report stream ended: {Error}", SinkRetry.Describe(ex));
        }
        stream.Break();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        current?.Break();
        writeLock.Dispose();
    }

    private sealed class OpenStream(AsyncDuplexStreamingCall<StreamReportsRequest, StreamReportsResponse> call)
    {
        private int broken;

        public AsyncDuplexStreamingCall<StreamReportsRequest, StreamReportsResponse> Call { get; } = call;
        public ConcurrentDictionary<ulong, TaskCompletionSource<StreamReportsResponse>> Pending { get; } = new();
        public bool Broken => Volatile.Read(ref broken) != 0;

        /// <summary>Fails whatever this stream has not answered and closes it; a new one replaces it.</summary>
        public void Break()
        {
            if (Interlocked.Exchange(ref broken, 1) != 0) return;
            var failure = new RpcException(new Status(StatusCode.Unavailable, "the report stream to task-service broke before it answered"));
            foreach (var answer in Pending.Values) answer.TrySetException(failure);
            Call.Dispose();
        }
    }
}
