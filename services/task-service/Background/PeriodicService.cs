namespace CeleryKube.TaskService.Background;

/// <summary>A background loop that runs one round every <c>interval</c> and survives a failed round.</summary>
public abstract class PeriodicService(TimeSpan interval, ILogger logger) : BackgroundService
{
    /// <summary>One round; returns how many items it acted on (logged when non-zero).</summary>
    public abstract Task<int> RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>What a round did, for the log, e.g. "Requeued {Count} tasks".</summary>
    protected abstract string RoundMessage { get; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
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
