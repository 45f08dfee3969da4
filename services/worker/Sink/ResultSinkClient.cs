using CeleryKube.ServiceDefaults;
using CeleryKube.Protos.V1;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace CeleryKube.Worker.Sink;

/// <summary>
/// task-service's ResultSinkService as the worker calls it: with the bearer token and a deadline on
/// every call. Reports go over one long-lived stream when <paramref name="stream"/> is given
/// (<see cref="ResultSinkStream"/>), else as unary calls. Transient <c>Unavailable</c> answers to
/// unary calls are retried by the channel (see <see cref="RetryingServiceConfig"/>); longer outages,
/// and a broken stream, by <see cref="SinkRetry"/>. The lease every claim and heartbeat answer
/// announces goes to <paramref name="heartbeats"/>.
/// </summary>
public sealed class ResultSinkClient(ResultSinkService.ResultSinkServiceClient client, ResultSinkToken token,
    HeartbeatSchedule heartbeats, ResultSinkStream? stream = null)
{
    /// <summary>Deadline of one call, including the channel's own retries.</summary>
    public static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

    /// <summary>Progress is advisory; a slow answer is not worth waiting long for.</summary>
    public static readonly TimeSpan ProgressDeadline = TimeSpan.FromSeconds(3);

    /// <summary>Up to 5 attempts, 0.2 s to 2 s apart, for calls answered <c>Unavailable</c> (task-service restarting).</summary>
    /// <remarks>The report stream is not retried by the channel: a replayed stream would resend old reports.</remarks>
    public static ServiceConfig RetryingServiceConfig => new()
    {
        MethodConfigs =
        {
            GrpcRetry.OnUnavailable(maxAttempts: 5, maxBackoff: TimeSpan.FromSeconds(2)),
            new MethodConfig { Names = { new MethodName { Service = ResultSinkService.Descriptor.FullName, Method = "StreamReports" } } },
        },
    };

    /// <summary>Claims a task for one attempt.</summary>
    public async Task<StartTaskResponse> StartTaskAsync(StartTaskRequest request, CancellationToken cancellationToken)
    {
        var response = await ReportAsync((h, d, ct) => client.StartTaskAsync(request, h, d, ct), new StreamReportsRequest { Start = request },
            r => r.Start, CallDeadline, cancellationToken);
        heartbeats.Observe(response.LeaseDuration);
        return response;
    }

    /// <summary>Reports progress; the answer says whether to stop.</summary>
    public Task<ReportProgressResponse> ReportProgressAsync(ReportProgressRequest request, CancellationToken cancellationToken) =>
        ReportAsync((h, d, ct) => client.ReportProgressAsync(request, h, d, ct), new StreamReportsRequest { Progress = request }, r => r.Progress,
            ProgressDeadline, cancellationToken);

    /// <summary>Records an attempt's outcome (idempotent per task and attempt).</summary>
    public Task<CompleteTaskResponse> CompleteTaskAsync(CompleteTaskRequest request, CancellationToken cancellationToken) =>
        ReportAsync((h, d, ct) => client.CompleteTaskAsync(request, h, d, ct), new StreamReportsRequest { Complete = request }, r => r.Complete,
            CallDeadline, cancellationToken);

    /// <summary>Claims a task and records the outcome of a run that already ended.</summary>
    public Task<FinishTaskResponse> FinishTaskAsync(FinishTaskRequest request, CancellationToken cancellationToken) =>
        ReportAsync((h, d, ct) => client.FinishTaskAsync(request, h, d, ct), new StreamReportsRequest { Finish = request }, r => r.Finish,
            CallDeadline, cancellationToken);

    /// <summary>A report over the stream when there is one, else as its unary call.</summary>
    private async Task<TResponse> ReportAsync<TResponse>(Func<Metadata, DateTime, CancellationToken, AsyncUnaryCall<TResponse>> unary,
        StreamReportsRequest onStream, Func<StreamReportsResponse, TResponse> answer, TimeSpan deadline, CancellationToken cancellationToken) =>
        stream is null
            ? await unary(Headers(), Deadline(deadline), cancellationToken).ResponseAsync
            : answer(await stream.SendAsync(onStream, deadline, cancellationToken));

    /// <summary>How long reading a task's input from the store may take (two texts at the input limit are up to 80 MB).</summary>
    public static readonly TimeSpan InputDeadline = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Reads a claimed task's texts from task-service in chunks (for a job message without them)
    /// and puts them into <paramref name="job"/>. Each text is assembled once: the chunks, then the string.
    /// </summary>
    public async Task<LcsJob> ReadInputAsync(LcsJob job, int attempt, string claimToken, CancellationToken cancellationToken)
    {
        using var call = client.ReadTaskInput(new ReadTaskInputRequest { TaskId = job.TaskId, Attempt = attempt, ClaimToken = claimToken },
            Headers(), Deadline(InputDeadline), cancellationToken);
        var text = new StringBuilder(job.TextALength);
        var inA = true;
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var chunk = call.ResponseStream.Current;
            if (inA && chunk.ChunkCase == ReadTaskInputResponse.ChunkOneofCase.TextB)
            {
                job.TextA = text.ToString();
                text = new StringBuilder(job.TextBLength);
                inA = false;
            }
            text.Append(inA ? chunk.TextA : chunk.TextB);
        }
        if (inA) job.TextA = text.ToString();
        else job.TextB = text.ToString();
        return job;
    }

    /// <summary>Registers the worker and renews its tasks' leases.</summary>
    public async Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, CancellationToken cancellationToken)
    {
        var response = await client.HeartbeatAsync(request, Headers(), Deadline(CallDeadline), cancellationToken).ResponseAsync;
        heartbeats.Observe(response.LeaseDuration);
        return response;
    }

    private Metadata Headers() => new() { { "authorization", token.BearerHeader } };

    private static DateTime Deadline(TimeSpan timeout) => DateTime.UtcNow + timeout;
}
