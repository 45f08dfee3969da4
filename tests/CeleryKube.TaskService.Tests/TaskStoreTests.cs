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
        await s.Store.ClaimAsync(task.Id, "w1", 0, false, Lease, "token-w1", CancellationToken.None);
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
    public async Task The_hot_path_reads_a_task_back_with_every_column_EF_Core_maps()
    {
        await using var s = await StartAsync();
        var none = CancellationToken.None;
        // Between them the three tasks set every column to something other than its default.
        var running = await SubmitAsync(s);
        await s.Store.ClaimAsync(running.Id, "w1", 0, false, Lease, "token-w1", none);
        await s.Store.ReportProgressAsync(running.Id, 1, "token-w1", 0.25, Lease, none);
        await s.Store.CancelAsync(running.Id, none);
        var succeeded = await SubmitAsync(s, key: "key-1");
        await s.Store.ClaimAsync(succeeded.Id, "w2", 0, false, Lease, "token-w2", none);
        await s.Store.CompleteAsync(succeeded.Id, 1, "token-w2", new LcsResult { Length = 2, Substring = "bc", OffsetA = 1, OffsetB = 2 }, null, false, none);
        var retried = await SubmitAsync(s);
        await s.Store.FailDeadLetteredAsync(retried.Id, "dead-lettered", none);
        await s.Store.RetryAsync([retried.Id], none);
        await s.Store.FailDeadLetteredAsync(retried.Id, "dead-lettered again", none);

        var columns = await s.Store.RunAsync((db, _) => Task.FromResult(db.Model.FindEntityType(typeof(TaskRecord))!.GetProperties().ToList()), none);
        var set = new HashSet<string>();
        foreach (var id in new[] { running.Id, succeeded.Id, retried.Id })
        {
            var mapped = await s.Store.RunAsync((db, ct) => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == id, ct), none);
            var read = await s.Get<TaskStoreWriter>().WriteAsync(scope => scope.Sql.Find(id), none);
            Assert.NotNull(read);
            foreach (var column in columns)
            {
                var value = column.PropertyInfo!.GetValue(mapped);
                Assert.Equal(value, column.PropertyInfo.GetValue(read));
                if (value is not (null or 0 or 0L or 0.0 or false)) set.Add(column.Name);
            }
        }
        Assert.Equal(columns.Select(c => c.Name).Order(), set.Order());
        Assert.Null(await s.Get<TaskStoreWriter>().WriteAsync(scope => scope.Sql.Find(Guid.NewGuid().ToString()), none));
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
        var claim = await s.Store.ClaimAsync(queued.Id, "w1", 0, false, Lease, "token-w1", CancellationToken.None);
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
    public async Task A_broker_confirm_commits_on_its_own_when_nothing_else_is_written_and_shares_the_commit_of_writes_queued_with_it()
    {
        await using var s = await StartAsync();
        await SubmitAsync(s);
        await SubmitAsync(s);
        var messages = await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None);
        Assert.Equal(2, messages.Count);

        // Alone, the confirm waits a moment for a write to share a commit with, then commits by itself.
        await s.Store.MarkPublishedAsync([(messages[0].OutboxId, messages[0].TaskId)], CancellationToken.None).WaitAsync(Wait);
        Assert.Equal(TaskState.Queued, await StateAsync(s, messages[0].TaskId));

        // Queued behind a write in progress, the confirm and the write queued after it commit together (one sequence number per commit).
        var entered = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holding = s.Store.RunAsync(async (_, _) =>
        {
            entered.SetResult();
            await release.Task;
            return 0;
        }, CancellationToken.None);
        await entered.Task.WaitAsync(Wait);
        var confirm = s.Store.MarkPublishedAsync([(messages[1].OutboxId, messages[1].TaskId)], CancellationToken.None);
        var third = SubmitAsync(s);
        release.SetResult();
        await holding;
        await confirm.WaitAsync(Wait);
        var submitted = await third;
        var confirmed = (await s.Reader.GetAsync(messages[1].TaskId, false, CancellationToken.None))!.Value.Task;
        var stored = (await s.Reader.GetAsync(submitted.Id, false, CancellationToken.None))!.Value.Task;
        Assert.Equal(TaskState.Queued, confirmed.State);
        Assert.Equal(stored.ChangeSeq, confirmed.ChangeSeq);
    }

    [Fact]
    public async Task A_commit_that_changes_nothing_does_not_advance_the_feed()
    {
        await using var s = await StartAsync();
        var task = await SubmitAsync(s);
        await s.Store.ClaimAsync(task.Id, "w1", 0, false, Lease, "token-w1", CancellationToken.None);
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
        await s.Store.ClaimAsync(task.Id, "w1", 0, false, leases.Duration, "token-w1", CancellationToken.None);
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

    private static async Task<List<(TaskState State, int Attempt, string? Worker, string? Note)>> HistoryAsync(InProcessStore s, string id) =>
        (await s.Reader.HistoryAsync(id, CancellationToken.None))!.Select(h => (h.State, h.Attempt, h.WorkerId, h.Note)).ToList();

    private static async Task<TaskRecord> FailedAsync(InProcessStore s, string error = "time limit")
    {
        var task = await SubmitAsync(s);
        await s.Store.ClaimAsync(task.Id, "w1", 0, false, Lease, "token-w1", CancellationToken.None);
        await s.Store.CompleteAsync(task.Id, 1, "token-w1", null, error, false, CancellationToken.None);
        return task;
    }

    [Fact]
    public async Task Each_command_that_changes_a_state_writes_its_history_row_and_a_retried_run_is_told_apart_by_its_messages()
    {
        await using var s = await StartAsync();
        var task = await SubmitAsync(s);
        var published = Assert.Single(await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None));
        Assert.Equal(0, published.Retries);
        await s.Store.MarkPublishedAsync([(published.OutboxId, task.Id)], CancellationToken.None);
        await s.Store.ClaimAsync(task.Id, "w1", 0, false, Lease, "token-w1", CancellationToken.None);
        await s.Store.CompleteAsync(task.Id, 1, "token-w1", null, "time limit", false, CancellationToken.None);

        Assert.Equal(1, (await s.Store.RetryAsync([task.Id], CancellationToken.None)).Retried);
        var retried = (await s.Reader.GetAsync(task.Id, false, CancellationToken.None))!.Value.Task;
        Assert.Equal((TaskState.Pending, 1, null, 1), (retried.State, retried.Retries, retried.Error, retried.Attempts));
        var message = Assert.Single(await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None));
        Assert.Equal((task.Id, 1, "abc"), (message.TaskId, message.Retries, message.TextA));

        // The first run's message, still in the queue or redelivered, can neither claim nor finish the new run.
        Assert.Equal(StartDecision.SkipSuperseded, (await s.Store.ClaimAsync(task.Id, "w9", 0, true, Lease, "token-w9", CancellationToken.None)).Decision);
        Assert.Equal(StartDecision.SkipSuperseded,
            (await s.Store.FinishAsync(task.Id, "w9", 0, true, TimeSpan.Zero, new LcsResult { Length = 9 }, null, null, CancellationToken.None)).Decision);
        var claim = await s.Store.ClaimAsync(task.Id, "w2", 1, false, Lease, "token-w2", CancellationToken.None);
        Assert.Equal((StartDecision.Proceed, 2), (claim.Decision, claim.Attempt));
        await s.Store.CompleteAsync(task.Id, 2, "token-w2", new LcsResult { Length = 2, Substring = "bc" }, null, false, CancellationToken.None);

        Assert.Equal(
        [
            (TaskState.Pending, 0, null, "submitted"), (TaskState.Queued, 0, null, "published"), (TaskState.Running, 1, "w1", null),
            (TaskState.Failed, 1, "w1", "time limit"), (TaskState.Pending, 1, null, "retried"), (TaskState.Running, 2, "w2", null),
            (TaskState.Succeeded, 2, "w2", null),
        ], await HistoryAsync(s, task.Id));
    }

    [Fact]
    public async Task Retrying_a_task_cancelled_while_queued_replaces_its_unpublished_message()
    {
        await using var s = await StartAsync();
        var task = await SubmitAsync(s);
        await s.Store.CancelAsync(task.Id, CancellationToken.None);
        await s.Store.RetryAsync([task.Id], CancellationToken.None);
        var message = Assert.Single(await s.Store.ClaimOutboxAsync(10, long.MaxValue, CancellationToken.None));
        Assert.Equal((TaskState.Pending, 1), (message.State, message.Retries));
        Assert.Equal([TaskState.Pending, TaskState.Cancelled, TaskState.Pending], (await HistoryAsync(s, task.Id)).Select(h => h.State));
        Assert.Equal("cancelled before it started", (await HistoryAsync(s, task.Id))[1].Note);
    }

    [Fact]
    public async Task Retry_refuses_the_whole_request_when_a_task_is_not_failed_or_cancelled_and_reports_unknown_ids()
    {
        await using var s = await StartAsync();
        var failed = await FailedAsync(s);
        var queued = await SubmitAsync(s);
        var missing = Guid.NewGuid().ToString();
        var refused = await Assert.ThrowsAsync<TaskRejection>(() => s.Store.RetryAsync([failed.Id, queued.Id], CancellationToken.None));
        Assert.Equal(RejectionKind.FailedPrecondition, refused.Kind);
        Assert.Contains($"{queued.Id} (PENDING)", refused.Message);
        Assert.Equal(TaskState.Failed, await StateAsync(s, failed.Id));
        Assert.Equal([TaskState.Pending, TaskState.Running, TaskState.Failed], (await HistoryAsync(s, failed.Id)).Select(h => h.State));

        var outcome = await s.Store.RetryAsync([failed.Id, missing], CancellationToken.None);
        Assert.Equal(1, outcome.Retried);
        Assert.Equal([missing], outcome.NotFoundIds);
        Assert.Null(await s.Reader.HistoryAsync(missing, CancellationToken.None));
    }

    [Fact]
    public async Task Retrying_all_failed_runs_in_chunks_and_leaves_other_states_alone()
    {
        await using var s = await StartAsync();
        const int failed = TaskStore.RetryChunkRows + 20;
        var tasks = await Task.WhenAll(Enumerable.Range(0, failed).Select(_ => FailedAsync(s)));
        var succeeded = await FinishedAsync(s);
        var cancelled = await SubmitAsync(s);
        await s.Store.CancelAsync(cancelled.Id, CancellationToken.None);
        var before = s.ChangeFeed.LastChangeSeq;

        Assert.Equal(failed, await s.Store.RetryAllFailedAsync(CancellationToken.None));
        Assert.True(s.ChangeFeed.LastChangeSeq - before >= 2, $"the retry committed in {s.ChangeFeed.LastChangeSeq - before} steps");
        foreach (var task in tasks) Assert.Equal(TaskState.Pending, await StateAsync(s, task.Id));
        Assert.Equal(TaskState.Succeeded, await StateAsync(s, succeeded.Id));
        Assert.Equal(TaskState.Cancelled, await StateAsync(s, cancelled.Id));
        var messages = await s.Store.ClaimOutboxAsync(2 * failed, long.MaxValue, CancellationToken.None);
        Assert.Equal(failed, messages.Count(m => m.Retries == 1));
    }

    [Fact]
    public async Task A_deleted_or_swept_task_takes_its_history_along_and_a_requeue_is_logged()
    {
        var leases = new LeasesOptions { Duration = TimeSpan.FromSeconds(30) };
        await using var s = await StartAsync(leases, new RetentionOptions { Failed = TimeSpan.FromHours(1) });
        var deleted = await FinishedAsync(s);
        var swept = await FailedAsync(s);
        var lapsed = await SubmitAsync(s);
        await s.Store.ClaimAsync(lapsed.Id, "w1", 0, false, leases.Duration, "token-w1", CancellationToken.None);

        s.Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await s.Store.ReapAsync(TimeSpan.FromDays(1), 100, CancellationToken.None));
        Assert.Equal((TaskState.Queued, 1, "w1", "its worker stopped answering (lease lapsed); requeued"), (await HistoryAsync(s, lapsed.Id))[^1]);

        await s.Store.DeleteAsync([deleted.Id], CancellationToken.None);
        Assert.Equal(1, await s.Get<RetentionSweeper>().RunOnceAsync(CancellationToken.None));
        var left = await s.Store.RunAsync((db, ct) => db.History.Select(h => h.TaskId).Distinct().ToListAsync(ct), CancellationToken.None);
        Assert.Equal([lapsed.Id], left);
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
