using CeleryKube.Protos;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The task store's write side: one named command per thing that changes tasks, each run by the
/// single writer in a shared transaction under its own savepoint. The decisions are the
/// <see cref="TaskRecord"/>'s; this class only loads, applies and saves. Times come from the
/// injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class TaskStore
{
    private readonly TaskStoreWriter writer;
    private readonly TimeProvider time;

    internal TaskStore(TaskStoreWriter writer, TimeProvider time)
    {
        this.writer = writer;
        this.time = time;
    }

    /// <summary>
    /// How long a replica's claim on an outbox row lasts. A replica that publishes renews it with
    /// every claim round; one that died lets it lapse, and another replica publishes the row (a
    /// duplicate message is harmless: StartTask lets one attempt run).
    /// </summary>
    public static readonly TimeSpan OutboxClaimLease = TimeSpan.FromSeconds(15);

    /// <summary>This process among the replicas sharing the store (the owner of its outbox claims).</summary>
    public string ReplicaId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The store's clock in Unix milliseconds.</summary>
    public long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Stores a new task with its texts and its outbox row in one commit, or returns the task an
    /// earlier submission with the same idempotency key created (also one committed a moment ago
    /// through another replica). The outbox row starts claimed by this replica, whose dispatcher
    /// gets it in memory.
    /// </summary>
    public Task<SubmitOutcome> SubmitAsync(TaskRecord task, string textA, string textB, string? traceParent, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var claimedUntil = NowMs + (long)OutboxClaimLease.TotalMilliseconds;
            if (scope.Sql.InsertSubmitted(task, textA, textB, traceParent, ReplicaId, claimedUntil) is { } outboxId)
                return new SubmitOutcome(task, true, outboxId);
            var key = task.IdempotencyKey;
            var existing = await scope.Db.Tasks.AsNoTracking().SingleAsync(t => t.IdempotencyKey == key, ct);
            return new SubmitOutcome(existing, false, 0);
        }, cancellationToken);

    /// <summary>
    /// A worker claims a task for one attempt (StartTask) with a job message of run
    /// <paramref name="retries"/>; the attempt's reports must present <paramref name="claimToken"/>.
    /// A retry of the call that claimed it (the same token) finds the claim and only renews its lease.
    /// </summary>
    public Task<ClaimOutcome> ClaimAsync(string taskId, string workerId, int retries, bool redelivered, TimeSpan lease, string claimToken,
        CancellationToken cancellationToken) =>
        writer.WriteAsync(scope =>
        {
            var task = scope.Sql.Find(taskId);
            if (task is null) return new ClaimOutcome(StartDecision.SkipNotFound, 0, TaskQueue.Unspecified, false);
            var now = NowMs;
            if (task.RenewRepeatedClaim(claimToken, now, lease))
            {
                scope.Sql.Save(task);
                return new ClaimOutcome(StartDecision.Proceed, task.Attempts, task.Queue, true);
            }
            var decision = task.Claim(workerId, retries, redelivered, now, lease, ClaimToken.Hash(claimToken));
            scope.Sql.Save(task);
            return new ClaimOutcome(decision, task.Attempts, task.Queue, false);
        }, cancellationToken);

    /// <summary>
    /// Claims a task and records the outcome of a run that already ended (FinishTask), as an attempt
    /// that holds <paramref name="claimToken"/>; a retry with the same token finds it recorded and changes nothing.
    /// </summary>
    public Task<FinishOutcome> FinishAsync(string taskId, string workerId, int retries, bool redelivered, TimeSpan runTime, LcsResult? result,
        string? error, string? claimToken, CancellationToken cancellationToken) =>
        writer.WriteAsync(scope =>
        {
            var task = scope.Sql.Find(taskId);
            if (task is null) return new FinishOutcome(StartDecision.SkipNotFound, 0, TaskState.Unspecified, TaskQueue.Unspecified, false);
            if (task.WasRecordedBy(claimToken)) return new FinishOutcome(StartDecision.Proceed, task.Attempts, task.State, task.Queue, true);
            var decision = task.ClaimAndComplete(workerId, retries, redelivered, NowMs, runTime, result, error,
                string.IsNullOrEmpty(claimToken) ? null : ClaimToken.Hash(claimToken));
            scope.Sql.Save(task);
            return new FinishOutcome(decision, task.Attempts, task.State, task.Queue, false);
        }, cancellationToken);

    /// <summary>Records an attempt's progress and renews its lease; says whether to stop.</summary>
    public Task<ProgressAnswer> ReportProgressAsync(string taskId, int attempt, string claimToken, double progress, TimeSpan lease, CancellationToken cancellationToken) =>
        writer.WriteAsync(scope =>
        {
            var task = scope.Sql.Find(taskId);
            if (task is null) return new ProgressAnswer(true, "task was deleted");
            var answer = task.RecordProgress(attempt, claimToken, progress, NowMs, lease);
            scope.Sql.Save(task);
            return answer;
        }, cancellationToken);

    /// <summary>
    /// Records an attempt's outcome; a late one or another attempt's is not applied, a retry of the
    /// report that set it is answered as applied again. Unknown tasks are rejected.
    /// </summary>
    public Task<CompleteOutcome> CompleteAsync(string taskId, int attempt, string claimToken, LcsResult? result, string? error, bool cancelled,
        CancellationToken cancellationToken) =>
        writer.WriteAsync(scope =>
        {
            var task = scope.Sql.Find(taskId) ?? throw TaskRejection.NotFound(taskId);
            if (task.WasRecordedBy(claimToken)) return new CompleteOutcome(task.State, true, task.Queue, null, true);
            var now = NowMs;
            var applied = task.Complete(attempt, claimToken, result, error, cancelled, now);
            scope.Sql.Save(task);
            TimeSpan? run = task.StartedAtMs is { } s ? TimeSpan.FromMilliseconds(now - s) : null;
            return new CompleteOutcome(task.State, applied, task.Queue, run, false);
        }, cancellationToken);

    /// <summary>Cancels a task (or asks its worker to stop); returns it as it is afterwards.</summary>
    public Task<TaskRecord> CancelAsync(string taskId, CancellationToken cancellationToken) =>
        writer.WriteAsync(scope =>
        {
            var task = scope.Sql.Find(taskId) ?? throw TaskRejection.NotFound(taskId);
            task.RequestCancel(NowMs);
            scope.Sql.Save(task);
            return task;
        }, cancellationToken);

    /// <summary>
    /// Runs FAILED or CANCELLED tasks again by id (<see cref="TaskRecord.Retry"/>), each with a new
    /// outbox row; unknown ids are returned, a task in another state rejects the whole request.
    /// </summary>
    public Task<RetryOutcome> RetryAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            // Locked in id order, so two replicas retrying overlapping sets take turns instead of deadlocking.
            var tasks = await scope.Db.Tasks.TagWith(RowLocks.ForUpdate).AsNoTracking().Where(t => ids.Contains(t.Id)).OrderBy(t => t.Id)
                .ToListAsync(ct);
            TaskRecord.EnsureRetryable(tasks.Select(t => (t.Id, t.State)).ToList());
            await RetryLockedAsync(scope, tasks, ct);
            return new RetryOutcome(tasks.Count, ids.Except(tasks.Select(t => t.Id)).ToList());
        }, cancellationToken);

    /// <summary>Most tasks one command of <see cref="RetryAllFailedAsync"/> retries.</summary>
    public const int RetryChunkRows = 500;

    /// <summary>
    /// Runs every task that was FAILED when the call began again, in commands of at most
    /// <see cref="RetryChunkRows"/> tasks (a retried task that fails again meanwhile is not taken
    /// twice). Returns how many were retried.
    /// </summary>
    public async Task<int> RetryAllFailedAsync(CancellationToken cancellationToken)
    {
        var failedBy = NowMs;
        var retried = 0;
        while (true)
        {
            var chunk = await writer.WriteAsync(async (scope, ct) =>
            {
                var tasks = await scope.Db.Tasks.TagWith(RowLocks.ForUpdate).AsNoTracking()
                    .Where(t => t.State == TaskState.Failed && t.FinishedAtMs <= failedBy).OrderBy(t => t.Id).Take(RetryChunkRows).ToListAsync(ct);
                await RetryLockedAsync(scope, tasks, ct);
                return tasks.Count;
            }, cancellationToken);
            retried += chunk;
            if (chunk < RetryChunkRows) return retried;
        }
    }

    /// <summary>Retries tasks read locked: each starts a new run, and its job message replaces any its earlier runs left in the outbox.</summary>
    private async Task RetryLockedAsync(WriteScope scope, List<TaskRecord> tasks, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0) return;
        var now = NowMs;
        var ids = tasks.Select(t => t.Id).ToList();
        await scope.Db.Outbox.Where(o => ids.Contains(o.TaskId)).ExecuteDeleteAsync(cancellationToken);
        foreach (var task in tasks)
        {
            task.Retry(now);
            scope.Sql.Save(task);
            scope.AddOutbox(task.Id, now);
        }
    }

    /// <summary>Deletes finished tasks by id; unknown ids are returned, unfinished ones reject the whole request.</summary>
    public Task<DeleteOutcome> DeleteAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var rows = await scope.Db.Tasks.Where(t => ids.Contains(t.Id)).Select(t => new { t.Id, t.State }).ToListAsync(ct);
            TaskRecord.EnsureDeletable(rows.Select(r => (r.Id, r.State)).ToList());
            var existing = rows.Select(r => r.Id).ToList();
            var count = await scope.Db.Tasks.Where(t => existing.Contains(t.Id)).ExecuteDeleteAsync(ct);
            return new DeleteOutcome(count, ids.Except(existing).ToList());
        }, cancellationToken);

    /// <summary>Deletes every finished task, in chunks (<see cref="DeleteInChunksAsync"/>).</summary>
    public async Task<int> DeleteAllFinishedAsync(CancellationToken cancellationToken) =>
        (await DeleteInChunksAsync(TaskRecord.Finished, cancellationToken)).GetValueOrDefault();

    /// <summary>Most tasks one delete chunk removes.</summary>
    public const int DeleteChunkRows = 500;

    /// <summary>Most code points of texts and results one delete chunk frees (freeing pages is what makes a delete slow).</summary>
    public const long DeleteChunkCodePoints = 16_000_000;

    /// <summary>
    /// Deletes the tasks <paramref name="filter"/> selects as many small writer commands, each at
    /// most <see cref="DeleteChunkRows"/> tasks and <see cref="DeleteChunkCodePoints"/> of their
    /// data (always at least one task), so claims and reports run between the chunks instead of
    /// waiting behind one long statement. Returns how many were deleted. With a
    /// <paramref name="round"/>, each chunk first takes that round's lock; when another replica
    /// holds it, the delete stops there and returns null.
    /// </summary>
    private async Task<int?> DeleteInChunksAsync(System.Linq.Expressions.Expression<Func<TaskRecord, bool>> filter, CancellationToken cancellationToken,
        long? round = null)
    {
        var deleted = 0;
        while (true)
        {
            var chunk = await writer.WriteAsync(async (scope, ct) =>
            {
                if (round is { } r && !await scope.TryLockRoundAsync(r, ct)) return (Deleted: 0, More: false, Locked: true);
                var heads = await scope.Db.Tasks.Where(filter).OrderBy(t => t.Id)
                    .Select(t => new { t.Id, Size = (long)t.TextALength + t.TextBLength + (t.ResultLength ?? 0) })
                    .Take(DeleteChunkRows).ToListAsync(ct);
                var ids = new List<string>();
                long size = 0;
                foreach (var head in heads)
                {
                    size += head.Size;
                    if (ids.Count > 0 && size > DeleteChunkCodePoints) break;
                    ids.Add(head.Id);
                }
                if (ids.Count > 0) await scope.Db.Tasks.Where(t => ids.Contains(t.Id)).ExecuteDeleteAsync(ct);
                return (Deleted: ids.Count, More: heads.Count > ids.Count || heads.Count == DeleteChunkRows, Locked: false);
            }, cancellationToken);
            if (chunk.Locked) return null;
            deleted += chunk.Deleted;
            if (!chunk.More) return deleted;
        }
    }

    /// <summary>
    /// Claims the oldest outbox rows no other replica holds (unclaimed, lapsed, or already this
    /// replica's) for <see cref="OutboxClaimLease"/>, and returns what their job messages need: at
    /// most <paramref name="maxRows"/>, and no more than <paramref name="maxChars"/> characters of
    /// text in all (always at least one row), so a round does not hold megabytes at once. Only texts
    /// a message carries (<see cref="JobMessage.CarriesTexts"/>) are read; larger ones stay in the
    /// store. Replicas claiming at the same moment get disjoint rows.
    /// </summary>
    public Task<List<PendingJob>> ClaimOutboxAsync(int maxRows, long maxChars, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var now = NowMs;
            var me = ReplicaId;
            var heads = await (from o in scope.Db.Outbox.AsNoTracking()
                               join t in scope.Db.Tasks on o.TaskId equals t.Id
                               where o.ClaimedUntilMs == null || o.ClaimedUntilMs < now || o.ClaimedBy == me
                               orderby o.Id
                               select new { o.Id, t.TextALength, t.TextBLength })
                .Take(maxRows).ToListAsync(ct);
            if (heads.Count == 0) return [];
            static long InlineChars(int a, int b) => JobMessage.CarriesTexts(a, b) ? a + b : 0;
            var take = 1;
            var chars = InlineChars(heads[0].TextALength, heads[0].TextBLength);
            while (take < heads.Count && (chars += InlineChars(heads[take].TextALength, heads[take].TextBLength)) <= maxChars) take++;
            var lastId = heads[take - 1].Id;
            var until = now + (long)OutboxClaimLease.TotalMilliseconds;
            await scope.Db.Database.ExecuteSqlRawAsync(scope.Dialect.ClaimOutboxSql, [me, until, lastId, now], ct);
            return await (from o in scope.Db.Outbox.AsNoTracking()
                          join t in scope.Db.Tasks on o.TaskId equals t.Id
                          join i in scope.Db.TaskInputs on o.TaskId equals i.TaskId
                          where o.ClaimedBy == me && o.ClaimedUntilMs == until && o.Id <= lastId
                          orderby o.Id
                          // JobMessage.CarriesTexts as SQL, so large texts are never loaded here.
                          let inline = (long)t.TextALength + t.TextBLength <= JobMessage.MaxInlineCodePoints
                          select new PendingJob(o.Id, t.Id, t.Queue, t.Algorithm, t.CreatedAtMs, t.State, t.TextALength, t.TextBLength,
                              inline ? i.TextA : null, inline ? i.TextB : null, o.TraceParent, t.Retries))
                .ToListAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// The broker confirmed these outbox rows: delete them and mark their tasks QUEUED. Deferred:
    /// it shares the commit of the next write (often the worker's report of the same task).
    /// </summary>
    public Task MarkPublishedAsync(IReadOnlyCollection<(long OutboxId, string TaskId)> published, CancellationToken cancellationToken) =>
        writer.WriteDeferredAsync((scope, _) =>
        {
            var now = NowMs;
            foreach (var (outboxId, taskId) in published) scope.Sql.Confirm(outboxId, taskId, now);
            return Task.FromResult(true);
        }, cancellationToken);

    /// <summary>The broker dead-lettered a task's job message: it ends FAILED with the reason.</summary>
    public Task FailDeadLetteredAsync(string taskId, string reason, CancellationToken cancellationToken) =>
        writer.WriteAsync(scope => FailUndeliverable(scope, taskId, reason), cancellationToken);

    /// <summary>
    /// The broker refused an outbox row's message for a reason publishing again cannot change: the
    /// row goes and its task ends FAILED with the reason, so it never blocks the rows behind it.
    /// </summary>
    public Task FailUnpublishableAsync(long outboxId, string taskId, string reason, CancellationToken cancellationToken) =>
        writer.WriteAsync(scope =>
        {
            scope.Sql.DeleteOutbox(outboxId);
            return FailUndeliverable(scope, taskId, reason);
        }, cancellationToken);

    private bool FailUndeliverable(WriteScope scope, string taskId, string reason)
    {
        var task = scope.Sql.Find(taskId);
        if (task is null) return false;
        task.FailUndeliverable(reason, NowMs);
        scope.Sql.Save(task);
        return true;
    }

    /// <summary>
    /// Puts running tasks whose lease lapsed back on their queue (through the outbox), ends those
    /// being cancelled, and removes worker registrations older than <paramref name="workerExpiry"/>.
    /// Returns how many tasks were requeued. With several replicas one reaps at a time (the others
    /// skip the round), and a task another transaction holds (a report renewing its lease) waits
    /// for the next round.
    /// </summary>
    public Task<int> ReapAsync(TimeSpan workerExpiry, int limit, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            if (!await scope.TryLockRoundAsync(StoreRounds.LeaseReaper, ct)) return 0;
            var now = NowMs;
            var lapsed = await scope.Db.Tasks.TagWith(RowLocks.ForUpdateSkipLocked).AsNoTracking().Where(TaskRecord.LeaseLapsedBefore(now))
                .OrderBy(t => t.LeaseExpiresAtMs).Take(limit).ToListAsync(ct);
            var requeued = 0;
            foreach (var task in lapsed)
            {
                var republish = task.ReleaseLapsedLease(now);
                scope.Sql.Save(task);
                if (!republish) continue;
                scope.AddOutbox(task.Id, now);
                requeued++;
            }
            var expiredBefore = now - (long)workerExpiry.TotalMilliseconds;
            await scope.Db.Workers.Where(w => w.LastHeartbeatMs < expiredBefore).ExecuteDeleteAsync(ct);
            return requeued;
        }, cancellationToken);

    /// <summary>
    /// Deletes finished tasks older than their state's retention, and tombstones of deletions
    /// committed up to <paramref name="tombstonesUpToSeq"/> (no live watcher still needs those).
    /// Returns how many tasks were deleted. With several replicas one sweeps at a time: a replica
    /// that finds another sweeping (at any chunk) leaves the rest of the round to it.
    /// </summary>
    public async Task<int> SweepAsync(Func<TaskState, TimeSpan> retention, long tombstonesUpToSeq, CancellationToken cancellationToken)
    {
        var now = NowMs;
        var deleted = 0;
        foreach (var state in TaskRecord.FinalStates)
        {
            var before = now - (long)retention(state).TotalMilliseconds;
            var swept = await DeleteInChunksAsync(t => t.State == state && t.FinishedAtMs < before, cancellationToken, StoreRounds.RetentionSweep);
            if (swept is null) return deleted;
            deleted += swept.Value;
        }
        await writer.WriteAsync((scope, ct) => scope.Db.Tombstones.Where(t => t.ChangeSeq > 0 && t.ChangeSeq <= tombstonesUpToSeq).ExecuteDeleteAsync(ct),
            cancellationToken);
        return deleted;
    }

    /// <summary>Registers a worker (or refreshes it) and renews the leases of the tasks it runs.</summary>
    public Task HeartbeatAsync(WorkerHeartbeat heartbeat, TimeSpan lease, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var now = NowMs;
            // An upsert: a worker that moved to another replica may heartbeat through both at once.
            await scope.Db.Database.ExecuteSqlAsync($"""
                INSERT INTO workers ("WorkerId", "Queue", "Concurrency", "Active", "Processed", "ControlAddress", "LastHeartbeatMs")
                VALUES ({heartbeat.WorkerId}, {(int)heartbeat.Queue}, {heartbeat.Concurrency}, {heartbeat.Active}, {heartbeat.Processed},
                    {heartbeat.ControlAddress}, {now})
                ON CONFLICT ("WorkerId") DO UPDATE SET "Queue" = excluded."Queue", "Concurrency" = excluded."Concurrency",
                    "Active" = excluded."Active", "Processed" = excluded."Processed", "ControlAddress" = excluded."ControlAddress",
                    "LastHeartbeatMs" = excluded."LastHeartbeatMs"
                """, ct);
            if (heartbeat.RunningTaskIds.Count > 0)
            {
                var running = heartbeat.RunningTaskIds;
                // Locked in id order, so two transactions renewing overlapping sets cannot deadlock.
                foreach (var task in await scope.Db.Tasks.TagWith(RowLocks.ForUpdate).Where(t => running.Contains(t.Id)).OrderBy(t => t.Id).ToListAsync(ct))
                    task.RenewLease(heartbeat.WorkerId, now, lease);
            }
            return true;
        }, cancellationToken);

    /// <summary>Runs an arbitrary command in the writer; for tests that need to break a command halfway.</summary>
    internal Task<T> RunAsync<T>(Func<TasksDbContext, CancellationToken, Task<T>> command, CancellationToken cancellationToken) =>
        writer.WriteAsync((scope, ct) => command(scope.Db, ct), cancellationToken);
}

/// <summary>The stored task, whether this submission created it, and (when it did) its outbox row.</summary>
public sealed record SubmitOutcome(TaskRecord Task, bool Created, long OutboxId);

/// <summary>
/// Who runs the task: the decision, the attempt number (with PROCEED) and the task's queue;
/// <paramref name="Repeated"/> when an earlier try of the same call already claimed it (its answer was lost).
/// </summary>
public sealed record ClaimOutcome(StartDecision Decision, int Attempt, TaskQueue Queue, bool Repeated);

/// <summary>
/// FinishTask's answer: whether it claimed the task, as which attempt, and the state after it;
/// <paramref name="Repeated"/> when an earlier try of the same call already did (its answer was lost).
/// </summary>
public sealed record FinishOutcome(StartDecision Decision, int Attempt, TaskState State, TaskQueue Queue, bool Repeated);

/// <summary>
/// The task's state after a report, whether the report was applied, and the attempt's run time;
/// <paramref name="Repeated"/> when an earlier try of the same report applied it (its answer was lost).
/// </summary>
public sealed record CompleteOutcome(TaskState State, bool Applied, TaskQueue Queue, TimeSpan? RunTime, bool Repeated);

/// <summary>How many tasks were retried and which asked-for ids did not exist.</summary>
public sealed record RetryOutcome(int Retried, IReadOnlyList<string> NotFoundIds);

/// <summary>How many tasks were deleted and which asked-for ids did not exist.</summary>
public sealed record DeleteOutcome(int Deleted, IReadOnlyList<string> NotFoundIds);

/// <summary>A worker's heartbeat, validated.</summary>
public sealed record WorkerHeartbeat(string WorkerId, TaskQueue Queue, int Concurrency, int Active, long Processed, string? ControlAddress,
    IReadOnlyList<string> RunningTaskIds);
