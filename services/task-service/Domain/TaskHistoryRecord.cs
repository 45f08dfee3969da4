using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Domain;

/// <summary>
/// A row of <c>task_history</c>: one state change of a task, written by the same command and in
/// the same transaction as the change (<see cref="TaskRecord"/> produces them; the store inserts
/// them). Deleted with its task.
/// </summary>
public sealed class TaskHistoryRecord
{
    /// <summary>Most characters of a note; longer errors are cut (the task's own error keeps all of it).</summary>
    public const int MaxNoteLength = 500;

    /// <summary>Insertion order (also the order of the changes).</summary>
    public long Id { get; init; }
    /// <summary>The task.</summary>
    public required string TaskId { get; init; }
    /// <summary>The state the task entered.</summary>
    public TaskState State { get; init; }
    /// <summary>Unix milliseconds of the change.</summary>
    public long AtMs { get; init; }
    /// <summary>The task's attempt count after the change.</summary>
    public int Attempt { get; init; }
    /// <summary>The attempt's worker, on changes into and out of RUNNING.</summary>
    public string? WorkerId { get; init; }
    /// <summary>Why: the error or cancel reason, "retried", "lease lapsed"; may be null.</summary>
    public string? Note { get; init; }

    /// <summary>A note cut to <see cref="MaxNoteLength"/> characters, never inside a surrogate pair.</summary>
    public static string? ShortNote(string? note)
    {
        if (note is null || note.Length <= MaxNoteLength) return note;
        var cut = char.IsHighSurrogate(note[MaxNoteLength - 2]) ? MaxNoteLength - 2 : MaxNoteLength - 1;
        return note[..cut] + "…";
    }
}
