using System.Runtime.CompilerServices;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The task store's read side: committed rows only, without change tracking, each read on its own
/// pooled context (on SQLite readers run beside the single writer thanks to WAL).
/// </summary>
public sealed class TaskReader(IDbContextFactory<TasksDbContext> contexts)
{
    /// <summary>A task, or null; its texts too when <paramref name="withInput"/>; as a <see cref="TaskSummaries">summary</see> when <paramref name="summary"/>.</summary>
    public async Task<(TaskRecord Task, TaskInput? Input)?> GetAsync(string id, bool withInput, CancellationToken cancellationToken, bool summary = false)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var task = await (summary ? TaskSummaries.Query(db) : db.Tasks.AsNoTracking()).SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (task is null) return null;
        var input = withInput ? await db.TaskInputs.AsNoTracking().SingleOrDefaultAsync(i => i.TaskId == id, cancellationToken) : null;
        return (task, input);
    }

    /// <summary>
    /// A task as a <see cref="TaskSummaries">summary</see>, with the <see cref="MatchWindow">window</see>
    /// of each text around its match when it SUCCEEDED with a non-empty match; null for an unknown
    /// task. The windows are cut by the database (SQL substr counts code points), so however long
    /// the texts are, only the windows reach task-service.
    /// </summary>
    public async Task<(TaskRecord Task, MatchExcerpts? Excerpts)?> GetWithMatchContextAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var task = await TaskSummaries.Query(db).SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (task is null) return null;
        if (task.State != TaskState.Succeeded || task.ResultLength is not > 0) return (task, null);
        var a = MatchWindow.Around(task.ResultOffsetA ?? 0, task.ResultLength.Value);
        var b = MatchWindow.Around(task.ResultOffsetB ?? 0, task.ResultLength.Value);
        var excerpts = await db.TaskInputs.AsNoTracking().Where(i => i.TaskId == id).Select(i => new MatchExcerpts(
                new TextExcerptRow(a.Start, i.TextA.Substring(a.Start, a.BeforeCount), i.TextA.Substring(a.Offset, a.MatchShown),
                    i.TextA.Substring(a.AfterStart, MatchWindow.ContextCodePoints)),
                new TextExcerptRow(b.Start, i.TextB.Substring(b.Start, b.BeforeCount), i.TextB.Substring(b.Offset, b.MatchShown),
                    i.TextB.Substring(b.AfterStart, MatchWindow.ContextCodePoints))))
            .SingleOrDefaultAsync(cancellationToken);
        return (task, excerpts);
    }

    /// <summary>
    /// One page of task summaries (<see cref="TaskSummaries"/>) matching <paramref name="filter"/>,
    /// newest first (oldest first when the filter says so), starting after <paramref name="after"/>
    /// (the (created, id) of the previous page's last task); and, when <paramref name="countTotal"/>,
    /// the filter's total (a count over every matching row).
    /// </summary>
    public async Task<(List<TaskRecord> Page, int? Total)> ListAsync(TaskListFilter filter,
        (long CreatedAtMs, string Id)? after, int take, bool countTotal, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var page = filter.Apply(TaskSummaries.Query(db));
        if (after is var (createdAtMs, id))
        {
            page = filter.OldestFirst
                ? page.Where(t => t.CreatedAtMs > createdAtMs || (t.CreatedAtMs == createdAtMs && string.Compare(t.Id, id) > 0))
                : page.Where(t => t.CreatedAtMs < createdAtMs || (t.CreatedAtMs == createdAtMs && string.Compare(t.Id, id) < 0));
        }
        var ordered = filter.OldestFirst
            ? page.OrderBy(t => t.CreatedAtMs).ThenBy(t => t.Id)
            : page.OrderByDescending(t => t.CreatedAtMs).ThenByDescending(t => t.Id);
        var rows = await ordered.Take(take).ToListAsync(cancellationToken);
        return (rows, countTotal ? await filter.Apply(db.Tasks).CountAsync(cancellationToken) : null);
    }

    /// <summary>
    /// Changes committed with a sequence in (<paramref name="afterSeq"/>, <paramref name="upToSeq"/>],
    /// in order, at most <paramref name="limit"/> of them: changed tasks as they are now (as
    /// <see cref="TaskSummaries">summaries</see>), and deleted ones. The batch says how far it got:
    /// read again after its <see cref="ChangeBatch.UpToSeq"/> for the rest.
    /// </summary>
    public async Task<ChangeBatch> ChangesAsync(long afterSeq, long upToSeq, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await ReadChangesAsync(db, afterSeq, upToSeq, limit, cancellationToken);
    }

    /// <summary>
    /// A reader of the change feed that keeps one context and connection open between reads, for a
    /// loop that reads after every commit (the watch broadcast): opening a SQLite connection, even a
    /// pooled one, sets its pragmas and EF's functions again, which cost more than the read.
    /// </summary>
    public async Task<ChangeCursor> OpenChangeCursorAsync(CancellationToken cancellationToken)
    {
        var db = await contexts.CreateDbContextAsync(cancellationToken);
        try
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            return new ChangeCursor(db);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>An open reader of the change feed (see <see cref="OpenChangeCursorAsync"/>); one caller at a time.</summary>
    public sealed class ChangeCursor(TasksDbContext db) : IAsyncDisposable
    {
        /// <summary>As <see cref="ChangesAsync"/>, on this cursor's connection.</summary>
        public Task<ChangeBatch> ReadAsync(long afterSeq, long upToSeq, int limit, CancellationToken cancellationToken) =>
            ReadChangesAsync(db, afterSeq, upToSeq, limit, cancellationToken);

        /// <inheritdoc />
        public ValueTask DisposeAsync() => db.DisposeAsync();
    }

    // The feed is read after every commit while anybody watches: its two queries are compiled once
    // per model (one per engine; the changed tasks' SELECT is the model's), not translated per read.
    private static readonly ConditionalWeakTable<IModel, ChangeQueries> CompiledChangeQueries = new();

    private sealed class ChangeQueries(string select)
    {
        public Func<TasksDbContext, long, long, int, IAsyncEnumerable<TaskRecord>> Changed { get; } =
            EF.CompileAsyncQuery((TasksDbContext db, long after, long upTo, int limit) =>
                db.Tasks.FromSqlRaw(select).AsNoTracking().Where(t => t.ChangeSeq > after && t.ChangeSeq <= upTo).OrderBy(t => t.ChangeSeq).Take(limit));

        public Func<TasksDbContext, long, long, int, IAsyncEnumerable<TaskTombstone>> Deleted { get; } =
            EF.CompileAsyncQuery((TasksDbContext db, long after, long upTo, int limit) =>
                db.Tombstones.AsNoTracking().Where(t => t.ChangeSeq > after && t.ChangeSeq <= upTo).OrderBy(t => t.ChangeSeq).Take(limit));
    }

    private static async Task<ChangeBatch> ReadChangesAsync(TasksDbContext db, long afterSeq, long upToSeq, int limit, CancellationToken cancellationToken)
    {
        var queries = CompiledChangeQueries.GetValue(db.Model, _ => new ChangeQueries(TaskSummaries.Select(db)));
        var changed = await queries.Changed(db, afterSeq, upToSeq, limit).ToListAsync(cancellationToken);
        var deleted = await queries.Deleted(db, afterSeq, upToSeq, limit).ToListAsync(cancellationToken);
        // A full list may have more behind it, also of its last commit (one sequence number per
        // commit): the batch ends before the last commit a full list reached.
        var reached = upToSeq;
        if (changed.Count == limit) reached = Math.Min(reached, changed[^1].ChangeSeq - 1);
        if (deleted.Count == limit) reached = Math.Min(reached, deleted[^1].ChangeSeq - 1);
        if (reached <= afterSeq)
        {
            // The first commit alone holds more than the limit (a bulk change): it is read whole.
            var first = Math.Min(changed.Count > 0 ? changed[0].ChangeSeq : long.MaxValue, deleted.Count > 0 ? deleted[0].ChangeSeq : long.MaxValue);
            return await ReadChangesAsync(db, afterSeq, first, int.MaxValue, cancellationToken);
        }
        var changes = changed.Where(t => t.ChangeSeq <= reached).Select(t => new TaskChange(t.ChangeSeq, t.Id, t.Queue, t))
            .Concat(deleted.Where(t => t.ChangeSeq <= reached).Select(t => new TaskChange(t.ChangeSeq, t.TaskId, t.Queue, null)));
        return new ChangeBatch(changes.OrderBy(c => c.Seq).ToList(), reached);
    }

    /// <summary>A task's state changes, oldest first; null for an unknown task.</summary>
    public async Task<List<TaskHistoryRecord>?> HistoryAsync(string taskId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entries = await db.History.AsNoTracking().Where(h => h.TaskId == taskId).OrderBy(h => h.Id).ToListAsync(cancellationToken);
        // No rows: a task stored before the history was kept, or none at all.
        if (entries.Count == 0 && !await db.Tasks.AnyAsync(t => t.Id == taskId, cancellationToken)) return null;
        return entries;
    }

    /// <summary>
    /// A piece of a task's text: <paramref name="count"/> code points from code point
    /// <paramref name="start"/> of text A (or B), cut by the database (SQL substr counts code
    /// points), so neither the whole text nor a split code point is ever loaded. Null for an unknown task.
    /// </summary>
    public async Task<string?> InputPieceAsync(string taskId, bool textA, int start, int count, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var inputs = db.TaskInputs.AsNoTracking().Where(i => i.TaskId == taskId);
        return await (textA ? inputs.Select(i => i.TextA.Substring(start, count)) : inputs.Select(i => i.TextB.Substring(start, count)))
            .SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Workers that heartbeated at or after <paramref name="sinceMs"/>.</summary>
    public async Task<List<WorkerRecord>> WorkersAsync(long sinceMs, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Workers.AsNoTracking().Where(w => w.LastHeartbeatMs >= sinceMs)
            .OrderBy(w => w.Queue).ThenBy(w => w.WorkerId).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// How many tasks are in each state, and how many RUNNING and FAILED ones each worker holds,
    /// from one query, so a worker's running count always adds up to the RUNNING count shown beside it.
    /// </summary>
    public async Task<StoreCounts> CountsAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var groups = await db.Tasks
            .GroupBy(t => new { t.State, Worker = t.State == TaskState.Running || t.State == TaskState.Failed ? t.WorkerId : null })
            .Select(g => new { g.Key.State, g.Key.Worker, Count = g.Count() })
            .ToListAsync(cancellationToken);
        Dictionary<string, int> ByWorker(TaskState state) =>
            groups.Where(g => g.State == state && g.Worker is not null).ToDictionary(g => g.Worker!, g => g.Count);
        return new StoreCounts(
            groups.GroupBy(g => g.State).ToDictionary(g => g.Key, g => g.Sum(x => x.Count)),
            ByWorker(TaskState.Running), ByWorker(TaskState.Failed));
    }

    /// <summary>Tasks that finished since <paramref name="sinceMs"/>, counted per time bucket, queue and success.</summary>
    public async Task<List<FinishedCount>> FinishedCountsAsync(long sinceMs, long bucketMs, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Tasks.AsNoTracking()
            .Where(TaskRecord.Finished).Where(t => t.FinishedAtMs >= sinceMs)
            .GroupBy(t => new { Bucket = t.FinishedAtMs!.Value / bucketMs, t.Queue, Succeeded = t.State == TaskState.Succeeded })
            .Select(g => new FinishedCount(g.Key.Bucket, g.Key.Queue, g.Key.Succeeded, g.Count()))
            .ToListAsync(cancellationToken);
    }
}

/// <summary>Which tasks ListTasks returns, and in which order.</summary>
/// <param name="States">Only these states; empty for every state.</param>
/// <param name="Queue">Only this queue; unspecified for both.</param>
/// <param name="IdPrefix">Only ids starting with this (lowercase hex and hyphens, so no LIKE wildcard); empty for every id.</param>
/// <param name="DeadLettered">Only tasks that failed because the broker dead-lettered their job.</param>
/// <param name="OldestFirst">Oldest first instead of newest first.</param>
public sealed record TaskListFilter(IReadOnlyCollection<TaskState> States, TaskQueue Queue, string IdPrefix = "", bool DeadLettered = false, bool OldestFirst = false)
{
    /// <summary>Every task, newest first.</summary>
    public static TaskListFilter All { get; } = new([], TaskQueue.Unspecified);

    /// <summary>The rows of <paramref name="tasks"/> that match.</summary>
    public IQueryable<TaskRecord> Apply(IQueryable<TaskRecord> tasks)
    {
        var states = States;
        if (states.Count > 0) tasks = tasks.Where(t => states.Contains(t.State));
        if (Queue != TaskQueue.Unspecified) tasks = tasks.Where(t => t.Queue == Queue);
        var prefix = IdPrefix;
        if (prefix.Length > 0) tasks = tasks.Where(t => t.Id.StartsWith(prefix));
        return DeadLettered ? tasks.Where(TaskRecord.DeadLettered) : tasks;
    }
}

/// <summary>Changes in order, complete up to <paramref name="UpToSeq"/>.</summary>
public sealed record ChangeBatch(List<TaskChange> Changes, long UpToSeq);

/// <summary>One change-feed event: the task as it is now, or (Task null) its deletion.</summary>
public sealed record TaskChange(long Seq, string TaskId, TaskQueue Queue, TaskRecord? Task);

/// <summary>An outbox row joined with what its job message carries.</summary>
/// <remarks>The texts are null when they are too large for the message (<see cref="JobMessage.CarriesTexts"/>).</remarks>
public sealed record PendingJob(long OutboxId, string TaskId, TaskQueue Queue, LcsAlgorithm Algorithm, long CreatedAtMs,
    TaskState State, int TextALength, int TextBLength, string? TextA, string? TextB, string? TraceParent, int Retries)
{
    /// <summary>Characters of text this job holds in memory.</summary>
    public long Chars => (TextA?.Length ?? 0) + (TextB?.Length ?? 0);
}

/// <summary>Tasks per state, and RUNNING and FAILED tasks per worker id, read together.</summary>
public sealed record StoreCounts(Dictionary<TaskState, int> ByState, Dictionary<string, int> RunningByWorker, Dictionary<string, int> FailedByWorker);

/// <summary>Finished tasks in one throughput bucket.</summary>
public sealed record FinishedCount(long Bucket, TaskQueue Queue, bool Succeeded, int Count);
