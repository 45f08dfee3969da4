using CeleryKube.TaskService.Api;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Background;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using CeleryKube.Testing;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// What only several replicas on one PostgreSQL database show: each replica here is a whole store
/// of its own (its writer, its pool, its listener) on the same database and the same fake clock,
/// over real sockets to a real server.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ReplicaStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static async Task<TaskRecord> SubmitAsync(InProcessStore s, string? key = null)
    {
        var task = TaskRecord.Submitted(TaskQueue.Small, LcsAlgorithm.Unspecified, 3, 3, key, s.Store.NowMs);
        return (await s.Store.SubmitAsync(task, "abc", "bcd", null, CancellationToken.None)).Task;
    }

    private static Task<int> OutboxRowsAsync(InProcessStore s, string taskId) =>
        s.Store.RunAsync((db, ct) => db.Outbox.CountAsync(o => o.TaskId == taskId, ct), CancellationToken.None);

    [Fact]
    public async Task The_same_idempotency_key_submitted_to_two_replicas_at_once_gives_one_task()
    {
        await using var a = await InProcessStore.StartAsync(StoreProvider.Postgres);
        await using var b = await a.StartReplicaAsync();
        var keys = Enumerable.Range(0, 20).Select(i => $"race-{i}-{Guid.NewGuid():N}").ToList();
        var races = keys.Select(async key =>
        {
            var both = await Task.WhenAll(Submit(a, key), Submit(b, key));
            return (key, both);
        });
        foreach (var (key, both) in await Task.WhenAll(races))
        {
            Assert.Equal(both[0].Task.Id, both[1].Task.Id);
            Assert.Single(both, o => o.Created);
            Assert.Equal(key, both[0].Task.IdempotencyKey);
        }
        var (_, total) = await b.Reader.ListAsync(TaskListFilter.All, null, 100, countTotal: true, CancellationToken.None);
        Assert.Equal(keys.Count, total);

        static Task<SubmitOutcome> Submit(InProcessStore s, string key) =>
            s.Store.SubmitAsync(TaskRecord.Submitted(TaskQueue.Small, LcsAlgorithm.Unspecified, 3, 3, key, s.Store.NowMs), "abc", "bcd", null,
                CancellationToken.None);
    }

    [Fact]
    public async Task Two_replicas_whose_transactions_lock_two_tasks_in_opposite_orders_both_commit_every_command()
    {
        await using var a = await InProcessStore.StartAsync(StoreProvider.Postgres);
        await using var b = await a.StartReplicaAsync();
        var (x, y) = ((await SubmitAsync(a)).Id, (await SubmitAsync(a)).Id);

        // Each replica's writer runs two commands in one transaction: the first locks one task, the
        // second (once both first ones hold their locks) the other task. That is a deadlock, and
        // the loser's first command still holds the lock the winner waits for: only giving up its
        // whole transaction, not running the second command again, lets both finish. The live
        // version of this: a claim locks a task, then a submit waits for the other replica's
        // transaction holding the same idempotency key, which waits to confirm that task.
        var locked = new[] { new TaskCompletionSource(), new TaskCompletionSource() };
        var writes = new List<Task<int>>();
        foreach (var (replica, index, first, second) in new[] { (a, 0, x, y), (b, 1, y, x) })
        {
            var busy = new TaskCompletionSource();
            var release = new TaskCompletionSource();
            var gate = replica.Store.RunAsync(async (_, ct) =>
            {
                busy.SetResult();
                await release.Task.WaitAsync(ct);
                return 0;
            }, CancellationToken.None);
            await busy.Task.WaitAsync(Wait);
            // Queued while the writer is busy, so its next transaction holds both.
            var name = index == 0 ? "a" : "b";
            writes.Add(replica.Store.RunAsync(async (db, ct) =>
            {
                var rows = await db.Tasks.Where(t => t.Id == first).ExecuteUpdateAsync(u => u.SetProperty(t => t.Error, name), ct);
                locked[index].TrySetResult();
                return rows;
            }, CancellationToken.None));
            writes.Add(replica.Store.RunAsync(async (db, ct) =>
            {
                await Task.WhenAll(locked.Select(l => l.Task)).WaitAsync(ct);
                return await db.Tasks.Where(t => t.Id == second).ExecuteUpdateAsync(u => u.SetProperty(t => t.Error, name), ct);
            }, CancellationToken.None));
            release.SetResult();
            await gate;
        }

        var updated = await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([1, 1, 1, 1], updated);
        // Each transaction applied whole: both tasks carry the mark of the one that committed last.
        var marks = new List<string?>();
        foreach (var id in new[] { x, y }) marks.Add((await a.Reader.GetAsync(id, false, CancellationToken.None))!.Value.Task.Error);
        Assert.Single(marks.Distinct());
    }

    [Fact]
    public async Task Outbox_claims_are_disjoint_and_a_dead_replicas_claims_are_published_by_another()
    {
        await using var a = await InProcessStore.StartAsync(StoreProvider.Postgres);
        await using var b = await a.StartReplicaAsync();
        await using var c = await a.StartReplicaAsync();
        var submitted = new List<string>();
        for (var i = 0; i < 30; i++) submitted.Add((await SubmitAsync(a)).Id);

        // A's submissions are A's to publish (its dispatcher has them in memory) while its claim lasts.
        Assert.Empty(await b.Store.ClaimOutboxAsync(100, long.MaxValue, CancellationToken.None));

        // A dies without publishing: once its claims lapse, B and C claiming at the same moment split the rows.
        a.Time.Advance(TaskStore.OutboxClaimLease + TimeSpan.FromSeconds(1));
        var claims = await Task.WhenAll(
            b.Store.ClaimOutboxAsync(100, long.MaxValue, CancellationToken.None),
            c.Store.ClaimOutboxAsync(100, long.MaxValue, CancellationToken.None));
        var byB = claims[0].Select(j => j.TaskId).ToList();
        var byC = claims[1].Select(j => j.TaskId).ToList();
        Assert.Empty(byB.Intersect(byC));
        Assert.Equal(submitted.Order(), byB.Concat(byC).Order());

        // B and C die too: A (restarted, say) publishes everything again.
        a.Time.Advance(TaskStore.OutboxClaimLease + TimeSpan.FromSeconds(1));
        var again = await a.Store.ClaimOutboxAsync(100, long.MaxValue, CancellationToken.None);
        Assert.Equal(submitted.Order(), again.Select(j => j.TaskId).Order());
        Assert.Equal("abc", again[0].TextA);

        // Published rows are gone for everyone.
        await a.Store.MarkPublishedAsync(again.Select(j => (j.OutboxId, j.TaskId)).ToList(), CancellationToken.None);
        a.Time.Advance(TaskStore.OutboxClaimLease + TimeSpan.FromSeconds(1));
        Assert.Empty(await b.Store.ClaimOutboxAsync(100, long.MaxValue, CancellationToken.None));
        Assert.Equal(TaskState.Queued, (await b.Reader.GetAsync(submitted[0], false, CancellationToken.None))!.Value.Task.State);
    }

    [Fact]
    public async Task A_watch_on_one_replica_sees_the_others_commits_in_commit_order_and_skips_none_even_a_late_commit()
    {
        await using var a = await InProcessStore.StartAsync(StoreProvider.Postgres);
        await using var b = await a.StartReplicaAsync();
        await using var c = await a.StartReplicaAsync();
        var late = await SubmitAsync(a);
        var early = await SubmitAsync(a);
        await Eventually.True(() => Task.FromResult(b.ChangeFeed.LastChangeSeq >= a.ChangeFeed.LastChangeSeq), Wait, "B's feed to catch up with A's submissions");
        var start = b.ChangeFeed.LastChangeSeq;

        // B's watch broadcast, as a WatchTasks stream on B gets it.
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watcher = b.Get<TaskWatchBroadcast>().Subscribe([], TaskQueue.Unspecified);
        var seen = new List<WatchTasksResponse>();
        var follower = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in watcher.Events.ReadAllAsync(watching.Token))
                    lock (seen) seen.Add(change);
            }
            catch (OperationCanceledException)
            {
            }
        });

        // A's transaction changes `late` first but commits last: C commits `early` meanwhile.
        var changedInA = new TaskCompletionSource();
        var commitA = new TaskCompletionSource();
        var lateWrite = a.Store.RunAsync(async (db, ct) =>
        {
            await db.Tasks.Where(t => t.Id == late.Id).ExecuteUpdateAsync(u => u.SetProperty(t => t.Error, "changed first, committed last"), ct);
            changedInA.SetResult();
            await commitA.Task.WaitAsync(ct);
            return 0;
        }, CancellationToken.None);
        await changedInA.Task.WaitAsync(Wait);
        await c.Store.CancelAsync(early.Id, CancellationToken.None);
        await Eventually.True(() => Task.FromResult(Seen(early.Id)), Wait, "B's watch to show C's commit");
        Assert.False(Seen(late.Id), "A's change is not committed yet");

        commitA.SetResult();
        await lateWrite;
        await Eventually.True(() => Task.FromResult(Seen(late.Id)), Wait, "B's watch to show A's late commit");
        await watching.CancelAsync();
        await follower;

        List<WatchTasksResponse> events;
        lock (seen) events = [.. seen];
        // None skipped: the watch ends with exactly what the feed holds from `start` to now, in that
        // order (before `start` it may also have caught the two submissions). Each commit once, the
        // late one after the one that committed before it.
        var all = (await b.Reader.ChangesAsync(start, b.ChangeFeed.LastChangeSeq, int.MaxValue, CancellationToken.None)).Changes;
        Assert.True(events.Count >= all.Count, $"the watch saw {events.Count} events, the feed holds {all.Count}");
        var tail = events.TakeLast(all.Count).ToList();
        Assert.Equal(all.Select(c => c.TaskId), tail.Select(e => e.Task.Id));
        Assert.Equal([early.Id, late.Id], tail.Select(e => e.Task.Id).Where(id => id == early.Id || id == late.Id));
        Assert.Equal("changed first, committed last", tail.Single(e => e.Task.Id == late.Id).Task.Error);

        bool Seen(string id)
        {
            lock (seen) return seen.Any(e => e.Task.Id == id);
        }
    }

    [Fact]
    public async Task Background_rounds_on_two_replicas_at_once_requeue_and_sweep_each_task_once_and_the_registry_is_shared()
    {
        var leases = new LeasesOptions { Duration = Lease };
        var retention = new RetentionOptions { Cancelled = TimeSpan.FromHours(1) };
        await using var a = await InProcessStore.StartAsync(StoreProvider.Postgres, leases, retention);
        await using var b = await a.StartReplicaAsync(leases, retention);
        // Created now: a reaper gives workers one lease from its start before it reaps.
        var (reaperA, reaperB) = (a.Get<LeaseReaper>(), b.Get<LeaseReaper>());
        var (sweeperA, sweeperB) = (a.Get<RetentionSweeper>(), b.Get<RetentionSweeper>());
        var tasks = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var task = await SubmitAsync(a);
            await a.Store.ClaimAsync(task.Id, "w1", 0, false, Lease, "token-w1", CancellationToken.None);
            tasks.Add(task.Id);
        }

        // Every lease lapses; both replicas' reapers run the same round at once.
        a.Time.Advance(Lease * 2);
        var requeueNoticed = b.ChangeFeed.NextOutboxRowAsync();
        var reaped = await Task.WhenAll(reaperA.RunOnceAsync(CancellationToken.None), reaperB.RunOnceAsync(CancellationToken.None));
        Assert.Equal(tasks.Count, reaped.Sum());
        foreach (var id in tasks)
        {
            var (task, _) = (await b.Reader.GetAsync(id, false, CancellationToken.None))!.Value;
            Assert.Equal((TaskState.Queued, 1), (task.State, task.Attempts));
            Assert.Equal(2, await OutboxRowsAsync(a, id)); // the submission's row and one requeue, not two
        }
        // The requeue's rows are any replica's to publish, and every replica's dispatcher is woken for them.
        await requeueNoticed.WaitAsync(Wait);

        // Both sweep at once: each finished task is deleted, and its deletion is one event.
        var beforeSweep = b.ChangeFeed.LastChangeSeq;
        foreach (var id in tasks) await b.Store.CancelAsync(id, CancellationToken.None);
        a.Time.Advance(TimeSpan.FromHours(2));
        var swept = await Task.WhenAll(sweeperA.RunOnceAsync(CancellationToken.None), sweeperB.RunOnceAsync(CancellationToken.None));
        Assert.Equal(tasks.Count, swept.Sum());
        await Eventually.True(() => Task.FromResult(a.ChangeFeed.LastChangeSeq >= b.ChangeFeed.LastChangeSeq), Wait, "A's feed to catch up");
        var deletions = (await a.Reader.ChangesAsync(beforeSweep, a.ChangeFeed.LastChangeSeq, int.MaxValue, CancellationToken.None)).Changes
            .Where(c => c.Task is null).Select(c => c.TaskId).ToList();
        Assert.Equal(tasks.Order(), deletions.Order());

        // A worker heartbeating through both replicas at once is one registration, seen the same from both.
        var heartbeat = new WorkerHeartbeat("w-shared", TaskQueue.Large, 2, 0, 5, null, []);
        await Task.WhenAll(a.Store.HeartbeatAsync(heartbeat, Lease, CancellationToken.None), b.Store.HeartbeatAsync(heartbeat with { Processed = 6 }, Lease, CancellationToken.None));
        var fromA = await a.Reader.WorkersAsync(0, CancellationToken.None);
        var fromB = await b.Reader.WorkersAsync(0, CancellationToken.None);
        Assert.Equal(fromA.Select(w => (w.WorkerId, w.Processed)), fromB.Select(w => (w.WorkerId, w.Processed)));
        Assert.Single(fromA, w => w.WorkerId == "w-shared");
    }

    [Fact]
    public async Task Replicas_starting_at_once_on_an_empty_database_migrate_it_once()
    {
        var server = await PrivatePostgres.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("migrate");
        try
        {
            var replicas = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => InProcessStore.StartOnAsync(StoreProvider.Postgres, connectionString)));
            try
            {
                var task = await SubmitAsync(replicas[0]);
                Assert.NotNull(await replicas[2].Reader.GetAsync(task.Id, false, CancellationToken.None));
                var (all, applied) = await replicas[1].Store.RunAsync(async (db, ct) =>
                    (db.Database.GetMigrations().ToList(), (await db.Database.GetAppliedMigrationsAsync(ct)).ToList()), CancellationToken.None);
                Assert.NotEmpty(all);
                Assert.Equal(all, applied);
            }
            finally
            {
                foreach (var replica in replicas) await replica.DisposeAsync();
            }
        }
        finally
        {
            await server.DropDatabaseAsync(connectionString);
        }
    }
}
