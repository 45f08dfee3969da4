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
}
