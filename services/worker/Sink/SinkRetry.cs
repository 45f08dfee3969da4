using CeleryKube.Messaging;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace CeleryKube.Worker.Sink;

/// <summary>
/// Retries a ResultSink call through an outage longer than the channel's own retries (task-service
/// redeploying), with exponential backoff up to a budget. Only failures that may pass are retried.
/// </summary>
public static class SinkRetry
{
    /// <summary>True for status codes that a later call may not get.</summary>
    public static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.ResourceExhausted or StatusCode.Internal;

    /// <summary>A one-line description of a failed call, without the gRPC debug exception.</summary>
    public static string Describe(Exception ex) => ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;

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

/// <summary>
/// How long the worker keeps trying to reach the ResultSink before it gives a job back. Both
/// budgets come from what the broker allows: a delivery must be settled within its consumer
/// timeout, and claiming, running (up to the time limit) and reporting all happen inside it.
/// </summary>
/// <param name="Start">How long a claim (StartTask) may wait for task-service.</param>
/// <param name="Complete">How long a finished outcome (CompleteTask) may wait for task-service.</param>
/// <param name="RequeuePause">Pause before giving back an unclaimed job, so an outage does not spin through deliveries.</param>
public sealed record SinkRetryBudgets(TimeSpan Start, TimeSpan Complete, TimeSpan RequeuePause)
{
    /// <summary>Room left for acknowledging and for clocks that disagree.</summary>
    public static readonly TimeSpan SettleMargin = TimeSpan.FromMinutes(1);

    /// <summary>The least time claiming and reporting each get: a task-service restart must never cost a job.</summary>
    public static readonly TimeSpan MinimumBudget = TimeSpan.FromMinutes(2);

    /// <summary>The longest time limit that still leaves <see cref="MinimumBudget"/> to claim and to report (25 minutes).</summary>
    public static TimeSpan MaxTimeLimit => QueueTopology.ConsumerTimeout - SettleMargin - 2 * MinimumBudget;

    /// <summary>
    /// Splits what the consumer timeout leaves after the time limit between claiming and reporting:
    /// 14 min each for small jobs (1 min limit), 4.5 min each for large ones (20 min limit).
    /// </summary>
    public static SinkRetryBudgets For(TimeSpan timeLimit)
    {
        var spare = QueueTopology.ConsumerTimeout - timeLimit - SettleMargin;
        if (spare <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeLimit), timeLimit, $"leaves no time to report within the broker's {QueueTopology.ConsumerTimeout:c} consumer timeout");
        return new SinkRetryBudgets(spare / 2, spare / 2, TimeSpan.FromSeconds(2));
    }
}
