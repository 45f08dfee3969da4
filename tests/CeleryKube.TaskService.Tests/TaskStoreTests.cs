using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using CeleryKube.TaskService.Background;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Tests;

/// <summary>The store's commands, savepoints and change feed, and its background loops on a fake clock, on each engine.</summary>
public abstract class TaskStoreTests
{
    protected abstract StoreProvider Provider { get; }

    private Task<InProcessStore> StartAsync(LeasesOptions? leases = null, RetentionOptions? retention = null) =>
        InProcessStore.StartAsync(Provider, leases, retention);

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static async Task<TaskRecord> SubmitAsync(InProcessStore s, string key = "")
    {
        var task = TaskRecord.Submitted(TaskQueue.Small, LcsAlgorithm.Unspecified, 3, 3, key.Length > 0 ? key : null, s.Store.NowMs);
        return (await s.Store.SubmitAsync(task, "abc", "bcd", null, CancellationToken.None)).Task;
    }

    private static async Task<TaskRecord> FinishedAsync(InProcessStore s)
    {
        var task = await SubmitAsync(s);
        await s.Store.ClaimAsync(task.Id, "w1", false, Lease, "token-w1", CancellationToken.None);
        await s.Store.CompleteAsync(task.Id, 1, "token-w1", new LcsResult { Length = 2, Substring = "bc" }, null, false, CancellationToken.None);
        return task;
    }

    private static async Task<TaskState?> StateAsync(InProcessStore s, string id) =>
        (await s.Reader.GetAsync(id, false, CancellationToken.None))?.Task.State;

    [Fact]
    public async Task A_failing_command_undoes_its_bulk_statements_while_its_batch_neighbours_commit()
    {
        await using var s = await StartAsync();
        var victim = await FinishedAsync(s);
        // Queue both before either runs, so they share one transaction.
        var failing = s.Store.RunAsync<int>(async (db, ct) =>
        {
            await db.Tasks.Where(t => t.Id == victim.Id).ExecuteDeleteAsync(ct);
            throw new InvalidOperationException("boom after the delete");
        }, CancellationToken.None);
        var neighbour = SubmitAsync(s);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        var committed = await neighbour;
        Assert.Equal(TaskState.Succeeded, await StateAsync(s, victim.Id));
        Assert.Equal(TaskState.Pending, await StateAsync(s, committed.Id));
    }

    [Fact]
    public async Task Every_change_gets_a_sequence_even_from_a_raw_bulk_update_and_deletions_become_events()
    {
        await using var s = await StartAsync();
        var task = await FinishedAsync(s);
        var before = s.ChangeFeed.LastChangeSeq;

        // A statement that bypasses the aggregate still shows up in the feed.
        await s.Store.RunAsync((db, ct) => db.Tasks.Where(t => t.Id == task.Id).ExecuteUpdateAsync(u => u.SetProperty(t => t.Error, "edited"), ct),
            CancellationToken.None);
        var afterUpdate = s.ChangeFeed.LastChangeSeq;
        Assert.True(afterUpdate > before);
        var updated = Assert.Single((await s.Reader.ChangesAsync(before, afterUpdate, 100, CancellationToken.None)).Changes);
        Assert.Equal("edited", updated.Task!.Error);

        Assert.Equal(1, (await s.Store.DeleteAsync([task.Id], CancellationToken.None)).Deleted);
        var afterDelete = s.ChangeFeed.LastChangeSeq;
        var deleted = Assert.Single((await s.Reader.ChangesAsync(afterUpdate, afterDelete, 100, CancellationToken.None)).Changes);
        Assert.Equal(task.Id, deleted.TaskId);
        Assert.Null(deleted.Task);
    }

    [Fact]
    public async Task Deleting_all_finished_runs_in_chunks_that_other_commands_interleave_with_and_every_deletion_is_an_event()
    {
        await using var s = await StartAsync();
        const int finished = TaskStore.DeleteChunkRows * 2 + 100;
        await Task.WhenAll(Enumerable.Range(0, finished).Select(_ => FinishedAsync(s)));
        var queued = await SubmitAsync(s);
        var before = s.ChangeFeed.LastChangeSeq;

        var deleting = s.Store.DeleteAllFinishedAsync(CancellationToken.None);
        // A claim queued beside the delete runs too; the delete itself commits chunk by chunk (below),
        // so the writer is never held for the whole of it.
        var claim = await s.Store.ClaimAsync(queued.Id, "w1", false, Lease, "token-w1", CancellationToken.None);
        Assert.Equal(finished, await deleting);

        Assert.Equal(StartDecision.Proceed, claim.Decision);
        Assert.True(s.ChangeFeed.LastChangeSeq - before >= 3, $"the delete committed in {s.ChangeFeed.LastChangeSeq - before} steps");
        // Read in batches smaller than a chunk's commit: a commit is never split between batches.
        var events = new List<TaskChange>();
        for (var after = before; after < s.ChangeFeed.LastChangeSeq;)
        {
            var batch = await s.Reader.ChangesAsync(after, s.ChangeFeed.LastChangeSeq, 300, CancellationToken.None);
            events.AddRange(batch.Changes);
            after = batch.UpToSeq;
        }
        Assert.Equal(finished, events.Count(e => e.Task is null));
        Assert.Equal(TaskState.Running, await StateAsync(s, queued.Id));
    }

    [Fact]
    public async Task A_commit_that_changes_nothing_does_not_advance_the_feed()
    {
        await using var s = await StartAsync();
        var task = await SubmitAsync(s);
        await s.Store.ClaimAsync(task.Id, "w1", false, Lease, "token-w1", CancellationToken.None);
        var before = s.ChangeFeed.LastChangeSeq;
        // A heartbeat only renews leases and the registry: nothing a watcher shows.
        await s.Store.HeartbeatAsync(new WorkerHeartbeat("w1", TaskQueue.Small, 1, 1, 0, null, [task.Id]), Lease, CancellationToken.None);
        Assert.Equal(before, s.ChangeFeed.LastChangeSeq);
    }

    [Fact]
    public async Task Rejections_name_the_kind()
    {
        await using var s = await StartAsync();
        var missing = Guid.NewGuid().ToString();
        Assert.Equal(RejectionKind.NotFound, (await Assert.ThrowsAsync<TaskRejection>(() => s.Store.CancelAsync(missing, CancellationToken.None))).Kind);
        var queued = await SubmitAsync(s);
        var refused = await Assert.ThrowsAsync<TaskRejection>(() => s.Store.DeleteAsync([queued.Id], CancellationToken.None));
        Assert.Equal(RejectionKind.FailedPrecondition, refused.Kind);
        Assert.Contains(queued.Id, refused.Message);
        Assert.Equal(TaskState.Pending, await StateAsync(s, queued.Id));
    }

    [Fact]
    public async Task A_stopped_store_refuses_writes_as_unavailable()
    {
        await using var s = await StartAsync();
        await s.StopAsync();
        await Assert.ThrowsAsync<TaskStoreUnavailableException>(() => SubmitAsync(s));
    }

    [Fact]
    public async Task The_reaper_requeues_a_lapsed_lease_only_after_its_start_up_grace_and_the_lease_have_passed()
    {
        var leases = new LeasesOptions { Duration = TimeSpan.FromSeconds(30), ReaperInterval = TimeSpan.FromSeconds(5) };
        await using var s = await StartAsync(leases);
        var task = await SubmitAsync(s);
        await s.Store.ClaimAsync(task.Id, "w1", false, leases.Duration, "token-w1", CancellationToken.None);
        var reaper = s.Get<LeaseReaper>();

        s.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, await reaper.RunOnceAsync(CancellationToken.None));
        Assert.Equal(TaskState.Running, await StateAsync(s, task.Id));

        // Past the lease: the running loop, timed by the fake clock, puts it back on its queue.
        await s.StartAsync<LeaseReaper>();
        s.Time.Advance(TimeSpan.FromSeconds(15));
        await Eventually.True(async () =>
        {
            // The loop may register its timer after the first advance: keep the clock moving.
            s.Time.Advance(leases.ReaperInterval);
            return await StateAsync(s, task.Id) == TaskState.Queued;
        }, Wait, "the reaper to requeue the task");
        // No dispatcher runs here: the submit's row is still there, and the requeue added a second.
        Assert.Equal(2, (await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None)).Count(j => j.TaskId == task.Id));
    }

    [Fact]
    public async Task The_sweeper_deletes_finished_tasks_after_their_retention_and_keeps_the_rest()
    {
        var retention = new RetentionOptions { Succeeded = TimeSpan.FromHours(1), SweepInterval = TimeSpan.FromMinutes(1) };
        await using var s = await StartAsync(retention: retention);
        var done = await FinishedAsync(s);
        var queued = await SubmitAsync(s);
        var sweeper = s.Get<RetentionSweeper>();

        s.Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await sweeper.RunOnceAsync(CancellationToken.None));

        await s.StartAsync<RetentionSweeper>();
        await Eventually.True(async () =>
        {
            s.Time.Advance(retention.SweepInterval);
            return await StateAsync(s, done.Id) is null;
        }, Wait, "the sweeper to delete the finished task");
        Assert.Equal(TaskState.Pending, await StateAsync(s, queued.Id));
    }
}

public sealed class SqliteTaskStoreTests : TaskStoreTests
{
    protected override StoreProvider Provider => StoreProvider.Sqlite;
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresTaskStoreTests : TaskStoreTests
{
    protected override StoreProvider Provider => StoreProvider.Postgres;
}
