namespace CeleryKube.TaskService.Background;

/// <summary>
/// A background loop that runs one round every <c>interval</c> of <paramref name="time"/> and
/// survives a failed round. Tests drive it with a fake clock instead of waiting.
/// </summary>
public abstract class PeriodicService(TimeSpan interval, TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>One round; returns how many items it acted on (logged when non-zero).</summary>
    public abstract Task<int> RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>What a round did, for the log, e.g. "Requeued {Count} tasks".</summary>
    protected abstract string RoundMessage { get; }

    /// <summary>The clock rounds are timed by.</summary>
    protected TimeProvider Time => time;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var count = await RunOnceAsync(stoppingToken);
#pragma warning disable CA2254 // the template is fixed per subclass
                if (count > 0) logger.LogInformation(RoundMessage, count);
#pragma warning restore CA2254
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "{Service} round failed; retrying next interval", GetType().Name);
            }
        }
    }
}
