using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace CeleryKube.Worker.Sink;

/// <summary>
/// Retries a ResultSink call through an outage longer than the channel's own retries (task-service
/// redeploying), with exponential backoff up to a budget. Only failures that may pass are retried.
/// </summary>
public static class SinkRetry
{
    /// <summary>How long a claim may wait for task-service before the job is requeued.</summary>
    public static readonly TimeSpan StartBudget = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a finished result may wait for task-service before the job is requeued (and
    /// recomputed later). Generous, because recomputing a large job is expensive; the time limit
    /// plus this stays below the broker's consumer timeout.
    /// </summary>
    public static readonly TimeSpan CompleteBudget = TimeSpan.FromMinutes(2);

    /// <summary>True for status codes that a later call may not get.</summary>
    public static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.ResourceExhausted or StatusCode.Internal;

    /// <summary>Calls <paramref name="call"/> until it succeeds, fails permanently, the budget is spent or <paramref name="cancellationToken"/> fires.</summary>
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, TimeSpan budget, string what, ILogger logger, CancellationToken cancellationToken)
    {
        var giveUpAt = DateTime.UtcNow + budget;
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (RpcException ex) when (IsTransient(ex.StatusCode) && !cancellationToken.IsCancellationRequested && DateTime.UtcNow + delay < giveUpAt)
            {
                logger.LogWarning("{What} failed ({Status}: {Detail}); retry {Attempt} in {Delay:0.#} s",
                    what, ex.StatusCode, ex.Status.Detail, attempt, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
