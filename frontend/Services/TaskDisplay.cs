using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace CeleryKube.Frontend.Services;

/// <summary>How tasks, states and queues are named and formatted on every page.</summary>
public static class TaskDisplay
{
    /// <summary>States a person can filter by, in lifecycle order, with their URL names.</summary>
    public static readonly IReadOnlyList<TaskState> States = TaskStates.All;

    /// <summary>The state's URL and CSS name, e.g. <c>succeeded</c>.</summary>
    public static string Slug(this TaskState state) => state.ToString().ToLowerInvariant();

    /// <summary>Parses a URL state name; null for anything else.</summary>
    public static TaskState? ParseState(string? slug) =>
        States.Cast<TaskState?>().FirstOrDefault(s => string.Equals(s!.Value.Slug(), slug, StringComparison.OrdinalIgnoreCase));

    /// <summary>The queue's short name: <c>small</c>, <c>large</c> or empty.</summary>
    public static string Label(this TaskQueue queue) => queue.Name();

    /// <summary>Parses <c>small</c> or <c>large</c>; unspecified for anything else.</summary>
    public static TaskQueue ParseQueue(string? name) => TaskQueues.Parse(name);

    /// <summary>The algorithm as a person would name it.</summary>
    public static string Label(this LcsAlgorithm algorithm) => algorithm switch
    {
        LcsAlgorithm.DynamicProgramming => "dynamic programming",
        LcsAlgorithm.BruteForce => "brute force",
        _ => "suffix array",
    };


    /// <summary>Run time so far (running) or in all (finished); null before the first claim.</summary>
    public static TimeSpan? Duration(this LcsTask task, DateTimeOffset now)
    {
        if (task.StartTime is null)
        {
            return null;
        }
        var end = task.FinishTime?.ToDateTimeOffset() ?? (task.State == TaskState.Running ? now : (DateTimeOffset?)null);
        return end is null ? null : end.Value - task.StartTime.ToDateTimeOffset();
    }

    /// <summary>A compact duration: <c>340 ms</c>, <c>12.5 s</c>, <c>3 min 20 s</c>.</summary>
    public static string Format(TimeSpan? duration) => duration switch
    {
        null => "\u2014",
        { TotalSeconds: < 1 } d => $"{Math.Max(0, d.TotalMilliseconds):0} ms",
        { TotalMinutes: < 1 } d => $"{d.TotalSeconds:0.0} s",
        { TotalHours: < 1 } d => $"{(int)d.TotalMinutes} min {d.Seconds} s",
        var d => $"{(int)d.Value.TotalHours} h {d.Value.Minutes} min",
    };

    /// <summary>A timestamp in UTC, <c>2026-11-25 14:03:07</c>; a dash when unset.</summary>
    public static string Format(Timestamp? time) =>
        time is null ? "\u2014" : time.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss") + " UTC";

    /// <summary>Date and time in UTC without the zone, <c>2026-11-25 14:03:07</c>, for columns headed "(UTC)".</summary>
    public static string FormatDateTime(Timestamp? time) =>
        time is null ? "\u2014" : time.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss");

    /// <summary>How long before <paramref name="now"/> something happened, e.g. <c>3.0 s ago</c>; <c>never</c> when unset.</summary>
    public static string Ago(Timestamp? time, DateTimeOffset now) =>
        time is null ? "never" : Format(now - time.ToDateTimeOffset()) + " ago";

    /// <summary>ISO 8601 for a <c>&lt;time datetime&gt;</c> attribute.</summary>
    public static string Iso(Timestamp? time) => time is null ? "" : time.ToDateTime().ToString("O");

    /// <summary>The first eight characters of an id, enough to tell tasks apart in a list.</summary>
    public static string ShortId(string id) => id.Length > 8 ? id[..8] : id;

    /// <summary>At most <paramref name="maxCodePoints"/> code points of <paramref name="text"/>, with "…" when cut.</summary>
    public static string Shorten(string text, int maxCodePoints) =>
        CodePoints.Count(text) <= maxCodePoints ? text : CodePoints.Slice(text, 0, maxCodePoints) + "\u2026";

    /// <summary>
    /// Marks the idempotency keys the submit form makes up by itself, so the task page can tell
    /// them from keys a person (or an API client) chose.
    /// </summary>
    public const string FormKeyPrefix = "web-form:";

    /// <summary>The idempotency key when someone chose it; null when none was given or the form made it up.</summary>
    public static string? ChosenIdempotencyKey(this LcsTask task) =>
        string.IsNullOrEmpty(task.IdempotencyKey) || task.IdempotencyKey.StartsWith(FormKeyPrefix, StringComparison.Ordinal)
            ? null : task.IdempotencyKey;

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long n) => n.ToString("N0");
}
