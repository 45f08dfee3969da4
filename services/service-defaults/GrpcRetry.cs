using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace CeleryKube.ServiceDefaults;

/// <summary>The retry rule every CeleryKube gRPC client uses: retry only <c>Unavailable</c>, with backoff.</summary>
public static class GrpcRetry
{
    /// <summary>
    /// A method config for all methods: up to <paramref name="maxAttempts"/> attempts from 0.2 s apart,
    /// doubling up to <paramref name="maxBackoff"/>, for calls answered <c>Unavailable</c> (a peer restarting).
    /// </summary>
    public static MethodConfig OnUnavailable(int maxAttempts, TimeSpan maxBackoff) => new()
    {
        Names = { MethodName.Default },
        RetryPolicy = new RetryPolicy
        {
            MaxAttempts = maxAttempts,
            InitialBackoff = TimeSpan.FromMilliseconds(200),
            MaxBackoff = maxBackoff,
            BackoffMultiplier = 2,
            RetryableStatusCodes = { StatusCode.Unavailable },
        },
    };

    /// <summary>
    /// The longest wait between two connection attempts of a channel whose peer is away. The
    /// client's default (120 s) would leave a worker idle for up to two minutes after task-service
    /// is back from an outage; peers here are a few hops away, so trying every few seconds is cheap.
    /// </summary>
    public static readonly TimeSpan MaxReconnectBackoff = TimeSpan.FromSeconds(5);
}
