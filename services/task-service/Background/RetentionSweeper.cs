using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Background;

/// <summary>Deletes finished tasks older than their state's retention, so the store does not grow without bound.</summary>
public sealed class RetentionSweeper(TaskStoreWriter writer, IOptions<RetentionOptions> options, ILogger<RetentionSweeper> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var deleted = await SweepOnceAsync(stoppingToken);
                if (deleted > 0) logger.LogInformation("Retention sweep deleted {Count} finished tasks", deleted);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Retention sweep failed");
            }
        }
    }

    /// <summary>One sweep over every final state; returns how many tasks were deleted.</summary>
    public Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return writer.WriteAsync(async (db, ct) =>
        {
            var deleted = 0;
            foreach (var state in TaskStateMachine.FinalStates)
            {
                var before = now - (long)options.Value.For(state).TotalMilliseconds;
                deleted += await db.Tasks.Where(t => t.State == state && t.FinishedAtMs < before).ExecuteDeleteAsync(ct);
            }
            return deleted;
        }, cancellationToken);
    }
}
