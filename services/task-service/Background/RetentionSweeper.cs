using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Background;

/// <summary>Deletes finished tasks older than their state's retention, so the store does not grow without bound.</summary>
public sealed class RetentionSweeper(TaskStoreWriter writer, IOptions<RetentionOptions> options, ILogger<RetentionSweeper> logger)
    : PeriodicService(options.Value.SweepInterval, logger)
{
    /// <inheritdoc />
    protected override string RoundMessage => "Retention sweep deleted {Count} finished tasks";

    /// <summary>One sweep over every final state; returns how many tasks were deleted.</summary>
    public override Task<int> RunOnceAsync(CancellationToken cancellationToken)
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
