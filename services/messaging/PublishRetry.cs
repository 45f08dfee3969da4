using RabbitMQ.Client.Exceptions;

namespace CeleryKube.Messaging;

/// <summary>
/// The rule for a publish that meets a connection in recovery: on a cluster, the first publish after
/// the client moved to another node can throw <see cref="AlreadyClosedException"/> once while the
/// channel is being reopened, and succeeds when tried again a moment later.
/// </summary>
public static class PublishRetry
{
    /// <summary>Attempts in all before the failure is the caller's (a few seconds of recovery).</summary>
    public const int Attempts = 5;

    /// <summary>The wait before the first retry; it doubles on each further one.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Runs <paramref name="publish"/>, trying again after a short wait while it fails with
    /// <see cref="AlreadyClosedException"/> (channel or connection closed under it). Any other
    /// failure, and the last one, goes to the caller unchanged.
    /// </summary>
    public static async Task RunAsync(Func<CancellationToken, ValueTask> publish, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await publish(cancellationToken);
                return;
            }
            catch (AlreadyClosedException) when (attempt < Attempts)
            {
                await Task.Delay(delay, cancellationToken);
                delay *= 2;
            }
        }
    }
}
