using CeleryKube.ServiceDefaults;
using CeleryKube.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace CeleryKube.Worker.Sink;

/// <summary>
/// task-service's ResultSinkService as the worker calls it: with the bearer token and a deadline on
/// every call. Transient <c>Unavailable</c> answers are retried by the channel (see
/// <see cref="RetryingServiceConfig"/>); longer outages by <see cref="SinkRetry"/>.
/// </summary>
public sealed class ResultSinkClient(ResultSinkService.ResultSinkServiceClient client, ResultSinkCredentials credentials)
{
    /// <summary>Deadline of one call, including the channel's own retries.</summary>
    public static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

    /// <summary>Progress is advisory; a slow answer is not worth waiting long for.</summary>
    public static readonly TimeSpan ProgressDeadline = TimeSpan.FromSeconds(3);

    /// <summary>Up to 5 attempts, 0.2 s to 2 s apart, for calls answered <c>Unavailable</c> (task-service restarting).</summary>
    public static ServiceConfig RetryingServiceConfig => new()
    {
        MethodConfigs = { GrpcRetry.OnUnavailable(maxAttempts: 5, maxBackoff: TimeSpan.FromSeconds(2)) },
    };

    /// <summary>Claims a task for one attempt.</summary>
    public Task<StartTaskResponse> StartTaskAsync(StartTaskRequest request, CancellationToken cancellationToken) =>
        client.StartTaskAsync(request, Headers(), Deadline(CallDeadline), cancellationToken).ResponseAsync;

    /// <summary>Reports progress; the answer says whether to stop.</summary>
    public Task<ReportProgressResponse> ReportProgressAsync(ReportProgressRequest request, CancellationToken cancellationToken) =>
        client.ReportProgressAsync(request, Headers(), Deadline(ProgressDeadline), cancellationToken).ResponseAsync;

    /// <summary>Records an attempt's outcome (idempotent per task and attempt).</summary>
    public Task<CompleteTaskResponse> CompleteTaskAsync(CompleteTaskRequest request, CancellationToken cancellationToken) =>
        client.CompleteTaskAsync(request, Headers(), Deadline(CallDeadline), cancellationToken).ResponseAsync;

    /// <summary>Registers the worker and renews its tasks' leases.</summary>
    public Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, CancellationToken cancellationToken) =>
        client.HeartbeatAsync(request, Headers(), Deadline(CallDeadline), cancellationToken).ResponseAsync;

    private Metadata Headers() => new() { { "authorization", $"Bearer {credentials.Token}" } };

    private static DateTime Deadline(TimeSpan timeout) => DateTime.UtcNow + timeout;
}

/// <summary>The ResultSink bearer token, resolved once at start-up.</summary>
/// <param name="Token">The token; never logged.</param>
/// <param name="IsDevelopmentDefault">True when it is the Development default, not a configured secret.</param>
public sealed record ResultSinkCredentials(string Token, bool IsDevelopmentDefault);
