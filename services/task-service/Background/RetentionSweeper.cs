using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Background;

/// <summary>
/// Deletes finished tasks older than their state's retention, so the store does not grow without
/// bound, and the tombstones of deletions that live watchers have long since been sent.
/// </summary>
public sealed class RetentionSweeper(TaskStore store, TaskChangeFeed changeFeed, IOptions<RetentionOptions> options, TimeProvider time,
    ILogger<RetentionSweeper> logger)
    : PeriodicService(options.Value.SweepInterval, time, logger)
{
    /// <summary>How long a deletion's tombstone is kept for watchers that lag behind.</summary>
    public static readonly TimeSpan TombstoneKeep = TimeSpan.FromMinutes(1);

    // A watcher reads each commit's changes as soon as it is told of it, so a tombstone a minute
    // old has reached every live watcher. Rounds note the feed's sequence; the tombstones up to a
    // note at least that old go.
    private readonly Queue<(DateTimeOffset At, long Seq)> notes = new();

    /// <inheritdoc />
    protected override string RoundMessage => "Retention sweep deleted {Count} finished tasks";

    /// <summary>One sweep over every final state; returns how many tasks were deleted.</summary>
    public override async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        notes.Enqueue((now, changeFeed.LastChangeSeq));
        long tombstonesUpTo = 0;
        while (notes.Peek().At <= now - TombstoneKeep) tombstonesUpTo = notes.Dequeue().Seq;
        return await store.SweepAsync(options.Value.For, tombstonesUpTo, cancellationToken);
    }
}
