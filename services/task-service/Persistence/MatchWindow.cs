namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Where TASK_VIEW_MATCH_CONTEXT's window of one text lies, in code points: up to
/// <see cref="ContextCodePoints"/> before the match, the match's first <see cref="MatchCodePoints"/>,
/// and up to <see cref="ContextCodePoints"/> after the match's end.
/// </summary>
/// <param name="Start">Where the text before the match starts.</param>
/// <param name="Offset">Where the match starts.</param>
/// <param name="MatchShown">Code points of the match the window holds.</param>
/// <param name="AfterStart">Where the match ends.</param>
public readonly record struct MatchWindow(int Start, int Offset, int MatchShown, int AfterStart)
{
    /// <summary>Code points on each side of the match (the proto's TextExcerpt says 120).</summary>
    public const int ContextCodePoints = 120;

    /// <summary>Most code points of the match a window holds (the proto's TextExcerpt says 600).</summary>
    public const int MatchCodePoints = 600;

    /// <summary>Code points before the match.</summary>
    public int BeforeCount => Offset - Start;

    /// <summary>The window around a match of <paramref name="length"/> code points at <paramref name="offset"/>.</summary>
    public static MatchWindow Around(int offset, int length) =>
        new(Math.Max(0, offset - ContextCodePoints), offset, Math.Min(length, MatchCodePoints), offset + length);
}

/// <summary>A window of one text as the store cut it.</summary>
public sealed record TextExcerptRow(int Start, string Before, string Match, string After);

/// <summary>The windows of both texts around a task's match.</summary>
public sealed record MatchExcerpts(TextExcerptRow TextA, TextExcerptRow TextB);
