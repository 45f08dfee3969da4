using CeleryKube.Protos;
using CeleryKube.Protos.V1;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// One task as a row of the task list shows it: every value already formatted. The server
/// renders rows from it (Pages/Shared/_TaskRow.cshtml) and the event stream sends it to the page
/// script, which puts each value into the cell with the same <c>data-field</c> name.
/// </summary>
/// <param name="Id">Task id.</param>
/// <param name="ShortId">The id as the list shows it.</param>
/// <param name="State">State slug (<c>running</c>), also the badge's CSS suffix.</param>
/// <param name="StateLabel">State as shown (<c>RUNNING</c>).</param>
/// <param name="Finished">True in a final state (the row can be selected for deletion).</param>
/// <param name="Progress">0 to 1.</param>
/// <param name="Cancelling">True while a requested cancellation has not taken effect.</param>
/// <param name="Queue">Queue name.</param>
/// <param name="Lengths">The two input lengths.</param>
/// <param name="Match">The common substring, shortened; empty when there is none (yet).</param>
/// <param name="MatchLength">Its length in code points, formatted; a dash before the result.</param>
/// <param name="Duration">Run time, formatted.</param>
/// <param name="Created">Creation date and time (UTC), formatted.</param>
/// <param name="CreatedIso">Creation time in ISO 8601, for ordering and <c>&lt;time&gt;</c>.</param>
public sealed record TaskRow(
    string Id, string ShortId, string State, string StateLabel, bool Finished, double Progress, bool Cancelling,
    string Queue, string Lengths, string Match, string MatchLength, string Duration, string Created, string CreatedIso)
{
    /// <summary>Most code points of the common substring a row shows.</summary>
    public const int MatchPreviewCodePoints = 40;

    /// <summary>An empty row: the markup the page script fills for tasks that appear later.</summary>
    public static TaskRow Blank { get; } = new("", "", "", "", false, 0, false, "", "", "", "", "", "", "");

    /// <summary>The row for <paramref name="task"/>, durations measured against <paramref name="now"/>.</summary>
    public static TaskRow From(LcsTask task, DateTimeOffset now) => new(
        task.Id,
        TaskDisplay.ShortId(task.Id),
        task.State.Slug(),
        task.State.Label(),
        task.State.IsFinal(),
        task.Progress,
        task.CancelRequested && !task.State.IsFinal(),
        task.Queue.Label(),
        $"{TaskDisplay.Count(task.TextALength)} \u00d7 {TaskDisplay.Count(task.TextBLength)}",
        task.Result is { Length: > 0 } result ? TaskDisplay.Shorten(result.Substring, MatchPreviewCodePoints) : "",
        task.Result is null ? "\u2014" : TaskDisplay.Count(task.Result.Length),
        TaskDisplay.Format(task.Duration(now)),
        TaskDisplay.FormatDateTime(task.CreateTime),
        TaskDisplay.Iso(task.CreateTime));
}
