using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Persistence;
using Google.Protobuf.WellKnownTypes;

namespace CeleryKube.TaskService.Api;

/// <summary>Turns stored rows into wire messages.</summary>
public static class TaskMapper
{
    /// <summary>The task as <see cref="LcsTask"/>; the texts only when <paramref name="input"/> is given, the windows around the match only when <paramref name="matchContext"/> is.</summary>
    public static LcsTask ToProto(this TaskRecord t, TaskInput? input = null, MatchExcerpts? matchContext = null)
    {
        var task = new LcsTask
        {
            Id = t.Id,
            State = t.State,
            Queue = t.Queue,
            Algorithm = t.Algorithm,
            TextALength = t.TextALength,
            TextBLength = t.TextBLength,
            Attempts = t.Attempts,
            WorkerId = t.WorkerId ?? "",
            CreateTime = Time(t.CreatedAtMs),
            StartTime = t.StartedAtMs is { } started ? Time(started) : null,
            FinishTime = t.FinishedAtMs is { } finished ? Time(finished) : null,
            UpdateTime = Time(t.UpdatedAtMs),
            Progress = t.Progress,
            Error = t.Error ?? "",
            IdempotencyKey = t.IdempotencyKey ?? "",
            CancelRequested = t.CancelRequested,
            Retries = t.Retries,
        };
        if (t.State == TaskState.Succeeded)
        {
            task.Result = new LcsResult
            {
                Length = t.ResultLength ?? 0,
                Substring = t.ResultSubstring ?? "",
                OffsetA = t.ResultOffsetA ?? 0,
                OffsetB = t.ResultOffsetB ?? 0,
            };
        }
        if (input is not null)
        {
            task.TextA = input.TextA;
            task.TextB = input.TextB;
        }
        if (matchContext is not null)
        {
            task.MatchContext = new MatchContext { TextA = Excerpt(matchContext.TextA), TextB = Excerpt(matchContext.TextB) };
        }
        return task;
    }

    private static TextExcerpt Excerpt(TextExcerptRow row) => new() { Start = row.Start, Before = row.Before, Match = row.Match, After = row.After };

    /// <summary>A history row as <see cref="Protos.V1.TaskHistoryEntry"/>.</summary>
    public static Protos.V1.TaskHistoryEntry ToProto(this Domain.TaskHistoryRecord h) => new()
    {
        State = h.State,
        Time = Time(h.AtMs),
        Attempt = h.Attempt,
        WorkerId = h.WorkerId ?? "",
        Note = h.Note ?? "",
    };

    /// <summary>Unix milliseconds as a protobuf timestamp.</summary>
    public static Timestamp Time(long unixMs) => Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
}
