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

    /// <summary>The store's clock in Unix milliseconds.</summary>
    public long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Stores a new task with its texts and its outbox row in one commit, or returns the task an
    /// earlier submission with the same idempotency key created.
    /// </summary>
    public Task<SubmitOutcome> SubmitAsync(TaskRecord task, string textA, string textB, string? traceParent, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            if (task.IdempotencyKey is { } key)
            {
                var existing = await scope.Db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.IdempotencyKey == key, ct);
                if (existing is not null) return new SubmitOutcome(existing, false, 0);
            }
            var outboxId = scope.Sql.InsertSubmitted(task, textA, textB, traceParent);
            return new SubmitOutcome(task, true, outboxId);
        }, cancellationToken);

    /// <summary>A worker claims a task for one attempt (StartTask); the attempt's reports must present <paramref name="claimToken"/>.</summary>
    public Task<ClaimOutcome> ClaimAsync(string taskId, string workerId, bool redelivered, TimeSpan lease, string claimToken, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var task = await WriteStatements.FindAsync(scope.Db, taskId);
            if (task is null) return new ClaimOutcome(StartDecision.SkipNotFound, 0, TaskQueue.Unspecified);
            var decision = task.Claim(workerId, redelivered, NowMs, lease, ClaimToken.Hash(claimToken));
            scope.Sql.Save(task);
            return new ClaimOutcome(decision, task.Attempts, task.Queue);
        }, cancellationToken);

    /// <summary>Claims a task and records the outcome of a run that already ended (FinishTask).</summary>
    public Task<FinishOutcome> FinishAsync(string taskId, string workerId, bool redelivered, TimeSpan runTime, LcsResult? result, string? error,
        CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var task = await WriteStatements.FindAsync(scope.Db, taskId);
            if (task is null) return new FinishOutcome(StartDecision.SkipNotFound, 0, TaskState.Unspecified, TaskQueue.Unspecified);
            var decision = task.ClaimAndComplete(workerId, redelivered, NowMs, runTime, result, error);
            scope.Sql.Save(task);
            return new FinishOutcome(decision, task.Attempts, task.State, task.Queue);
        }, cancellationToken);

    /// <summary>Records an attempt's progress and renews its lease; says whether to stop.</summary>
    public Task<ProgressAnswer> ReportProgressAsync(string taskId, int attempt, string claimToken, double progress, TimeSpan lease, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var task = await WriteStatements.FindAsync(scope.Db, taskId);
            if (task is null) return new ProgressAnswer(true, "task was deleted");
            var answer = task.RecordProgress(attempt, claimToken, progress, NowMs, lease);
            scope.Sql.Save(task);
            return answer;
        }, cancellationToken);

    /// <summary>Records an attempt's outcome; a duplicate or late one is not applied. Unknown tasks are rejected.</summary>
    public Task<CompleteOutcome> CompleteAsync(string taskId, int attempt, string claimToken, LcsResult? result, string? error, bool cancelled,
        CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var task = await WriteStatements.FindAsync(scope.Db, taskId) ?? throw TaskRejection.NotFound(taskId);
            var now = NowMs;
            var applied = task.Complete(attempt, claimToken, result, error, cancelled, now);
            scope.Sql.Save(task);
            TimeSpan? run = task.StartedAtMs is { } s ? TimeSpan.FromMilliseconds(now - s) : null;
            return new CompleteOutcome(task.State, applied, task.Queue, run);
        }, cancellationToken);

    /// <summary>Cancels a task (or asks its worker to stop); returns it as it is afterwards.</summary>
    public Task<TaskRecord> CancelAsync(string taskId, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var task = await WriteStatements.FindAsync(scope.Db, taskId) ?? throw TaskRejection.NotFound(taskId);
            task.RequestCancel(NowMs);
            scope.Sql.Save(task);
            return task;
        }, cancellationToken);

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

    /// <summary>Deletes every finished task.</summary>
    public Task<int> DeleteAllFinishedAsync(CancellationToken cancellationToken) =>
        writer.WriteAsync((scope, ct) => scope.Db.Tasks.Where(TaskRecord.Finished).ExecuteDeleteAsync(ct), cancellationToken);

    /// <summary>The broker confirmed these outbox rows: delete them and mark their tasks QUEUED.</summary>
    public Task MarkPublishedAsync(IReadOnlyCollection<(long OutboxId, string TaskId)> published, CancellationToken cancellationToken) =>
        writer.WriteAsync((scope, _) =>
        {
            var now = NowMs;
            foreach (var (outboxId, taskId) in published) scope.Sql.Confirm(outboxId, taskId, now);
            return Task.FromResult(true);
        }, cancellationToken);

    /// <summary>The broker dead-lettered a task's job message: it ends FAILED with the reason.</summary>
    public Task FailDeadLetteredAsync(string taskId, string reason, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var task = await WriteStatements.FindAsync(scope.Db, taskId);
            if (task is null) return false;
            task.FailDeadLettered(reason, NowMs);
            scope.Sql.Save(task);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Puts running tasks whose lease lapsed back on their queue (through the outbox), ends those
    /// being cancelled, and removes worker registrations older than <paramref name="workerExpiry"/>.
    /// Returns how many tasks were requeued.
    /// </summary>
    public Task<int> ReapAsync(TimeSpan workerExpiry, int limit, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var now = NowMs;
            var lapsed = await scope.Db.Tasks.Where(TaskRecord.LeaseLapsedBefore(now))
                .OrderBy(t => t.LeaseExpiresAtMs).Take(limit).ToListAsync(ct);
            var requeued = 0;
            foreach (var task in lapsed)
            {
                if (!task.ReleaseLapsedLease(now)) continue;
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
    /// Returns how many tasks were deleted.
    /// </summary>
    public Task<int> SweepAsync(Func<TaskState, TimeSpan> retention, long tombstonesUpToSeq, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var now = NowMs;
            var deleted = 0;
            foreach (var state in TaskRecord.FinalStates)
            {
                var before = now - (long)retention(state).TotalMilliseconds;
                deleted += await scope.Db.Tasks.Where(t => t.State == state && t.FinishedAtMs < before).ExecuteDeleteAsync(ct);
            }
            await scope.Db.Tombstones.Where(t => t.ChangeSeq > 0 && t.ChangeSeq <= tombstonesUpToSeq).ExecuteDeleteAsync(ct);
            return deleted;
        }, cancellationToken);

    /// <summary>Registers a worker (or refreshes it) and renews the leases of the tasks it runs.</summary>
    public Task HeartbeatAsync(WorkerHeartbeat heartbeat, TimeSpan lease, CancellationToken cancellationToken) =>
        writer.WriteAsync(async (scope, ct) =>
        {
            var now = NowMs;
            var worker = await scope.Db.Workers.FindAsync([heartbeat.WorkerId], ct);
            if (worker is null)
            {
                worker = new WorkerRecord { WorkerId = heartbeat.WorkerId };
                scope.Db.Workers.Add(worker);
            }
            worker.Queue = heartbeat.Queue;
            worker.Concurrency = heartbeat.Concurrency;
            worker.Active = heartbeat.Active;
            worker.Processed = heartbeat.Processed;
            worker.ControlAddress = heartbeat.ControlAddress;
            worker.LastHeartbeatMs = now;
            if (heartbeat.RunningTaskIds.Count > 0)
            {
                var running = heartbeat.RunningTaskIds;
                foreach (var task in await scope.Db.Tasks.Where(t => running.Contains(t.Id)).ToListAsync(ct))
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

/// <summary>Who runs the task: the decision, the attempt number (with PROCEED) and the task's queue.</summary>
public sealed record ClaimOutcome(StartDecision Decision, int Attempt, TaskQueue Queue);

/// <summary>FinishTask's answer: whether it claimed the task, as which attempt, and the state after it.</summary>
public sealed record FinishOutcome(StartDecision Decision, int Attempt, TaskState State, TaskQueue Queue);

/// <summary>The task's state after a report, whether the report was applied, and the attempt's run time.</summary>
public sealed record CompleteOutcome(TaskState State, bool Applied, TaskQueue Queue, TimeSpan? RunTime);

/// <summary>How many tasks were deleted and which asked-for ids did not exist.</summary>
public sealed record DeleteOutcome(int Deleted, IReadOnlyList<string> NotFoundIds);

/// <summary>A worker's heartbeat, validated.</summary>
public sealed record WorkerHeartbeat(string WorkerId, TaskQueue Queue, int Concurrency, int Active, long Processed, string? ControlAddress,
    IReadOnlyList<string> RunningTaskIds);
