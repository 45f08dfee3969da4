using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The task store's read side: committed rows only, without change tracking, each read on its own
/// pooled context (readers run beside the single writer thanks to WAL).
/// </summary>
public sealed class TaskReader(IDbContextFactory<TasksDbContext> contexts)
{
    /// <summary>A task, or null; its texts too when <paramref name="withInput"/>.</summary>
    public async Task<(TaskRecord Task, TaskInput? Input)?> GetAsync(string id, bool withInput, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (task is null) return null;
        var input = withInput ? await db.TaskInputs.AsNoTracking().SingleOrDefaultAsync(i => i.TaskId == id, cancellationToken) : null;
        return (task, input);
    }

    /// <summary>
    /// One page of tasks, newest first, filtered by state and queue, starting after
    /// <paramref name="after"/> (the (created, id) of the previous page's last task); and, when
    /// <paramref name="countTotal"/>, the filter's total (a count over every matching row).
    /// </summary>
    public async Task<(List<TaskRecord> Page, int? Total)> ListAsync(IReadOnlyCollection<TaskState> states, TaskQueue queue,
        (long CreatedAtMs, string Id)? after, int take, bool countTotal, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var filtered = db.Tasks.AsNoTracking();
        if (states.Count > 0) filtered = filtered.Where(t => states.Contains(t.State));
        if (queue != TaskQueue.Unspecified) filtered = filtered.Where(t => t.Queue == queue);
        var page = filtered;
        if (after is var (createdAtMs, id))
            page = page.Where(t => t.CreatedAtMs < createdAtMs || (t.CreatedAtMs == createdAtMs && string.Compare(t.Id, id) < 0));
        var rows = await page.OrderByDescending(t => t.CreatedAtMs).ThenByDescending(t => t.Id).Take(take).ToListAsync(cancellationToken);
        return (rows, countTotal ? await filtered.CountAsync(cancellationToken) : null);
    }

    /// <summary>
    /// Changes committed with a sequence in (<paramref name="afterSeq"/>, <paramref name="upToSeq"/>],
    /// in order: changed tasks as they are now, and deleted ones.
    /// </summary>
    public async Task<List<TaskChange>> ChangesAsync(long afterSeq, long upToSeq, IReadOnlyCollection<string> ids, TaskQueue queue,
        CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var changed = db.Tasks.AsNoTracking().Where(t => t.ChangeSeq > afterSeq && t.ChangeSeq <= upToSeq);
        var deleted = db.Tombstones.AsNoTracking().Where(t => t.ChangeSeq > afterSeq && t.ChangeSeq <= upToSeq);
        if (ids.Count > 0)
        {
            changed = changed.Where(t => ids.Contains(t.Id));
            deleted = deleted.Where(t => ids.Contains(t.TaskId));
        }
        if (queue != TaskQueue.Unspecified)
        {
            changed = changed.Where(t => t.Queue == queue);
            deleted = deleted.Where(t => t.Queue == queue);
        }
        var changes = (await changed.ToListAsync(cancellationToken)).Select(t => new TaskChange(t.ChangeSeq, t.Id, t.Queue, t))
            .Concat((await deleted.ToListAsync(cancellationToken)).Select(t => new TaskChange(t.ChangeSeq, t.TaskId, t.Queue, null)));
        return changes.OrderBy(c => c.Seq).ToList();
    }

    /// <summary>
    /// The oldest unpublished outbox rows with what their job messages need: at most
    /// <paramref name="maxRows"/>, and no more than <paramref name="maxChars"/> characters of text
    /// in all (always at least one row), so a round of large jobs does not hold gigabytes at once.
    /// </summary>
    public async Task<List<PendingJob>> PendingJobsAsync(int maxRows, long maxChars, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var heads = await (from o in db.Outbox.AsNoTracking()
                           join t in db.Tasks on o.TaskId equals t.Id
                           orderby o.Id
                           select new { o.Id, t.TextALength, t.TextBLength })
            .Take(maxRows).ToListAsync(cancellationToken);
        if (heads.Count == 0) return [];
        var take = 1;
        long chars = heads[0].TextALength + heads[0].TextBLength;
        while (take < heads.Count && (chars += heads[take].TextALength + heads[take].TextBLength) <= maxChars) take++;
        var lastId = heads[take - 1].Id;
        return await (from o in db.Outbox.AsNoTracking()
                      join t in db.Tasks on o.TaskId equals t.Id
                      join i in db.TaskInputs on o.TaskId equals i.TaskId
                      where o.Id <= lastId
                      orderby o.Id
                      select new PendingJob(o.Id, t.Id, t.Queue, t.Algorithm, t.CreatedAtMs, t.State, i.TextA, i.TextB, o.TraceParent))
            .Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>Workers that heartbeated at or after <paramref name="sinceMs"/>.</summary>
    public async Task<List<WorkerRecord>> WorkersAsync(long sinceMs, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Workers.AsNoTracking().Where(w => w.LastHeartbeatMs >= sinceMs)
            .OrderBy(w => w.Queue).ThenBy(w => w.WorkerId).ToListAsync(cancellationToken);
    }

    /// <summary>How many tasks are in each state.</summary>
    public async Task<Dictionary<TaskState, int>> StateCountsAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Tasks.GroupBy(t => t.State).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
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

/// <summary>One change-feed event: the task as it is now, or (Task null) its deletion.</summary>
public sealed record TaskChange(long Seq, string TaskId, TaskQueue Queue, TaskRecord? Task);

/// <summary>An outbox row joined with what its job message carries.</summary>
public sealed record PendingJob(long OutboxId, string TaskId, TaskQueue Queue, LcsAlgorithm Algorithm, long CreatedAtMs,
    TaskState State, string TextA, string TextB, string? TraceParent);

/// <summary>Finished tasks in one throughput bucket.</summary>
public sealed record FinishedCount(long Bucket, TaskQueue Queue, bool Succeeded, int Count);
