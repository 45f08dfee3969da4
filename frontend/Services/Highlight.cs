using CeleryKube.Protos;
using CeleryKube.Protos.V1;
namespace CeleryKube.Frontend.Services;

/// <summary>
/// A text cut around the common substring, ready to render as <c>before&lt;mark&gt;match&lt;/mark&gt;after</c>.
/// A match too long to show is shown from its start, in one piece, followed by how much of it is
/// left out (never with a gap inside the highlight, which would read as two matches).
/// </summary>
/// <param name="Before">Text before the match.</param>
/// <param name="Match">The match, or its start when <paramref name="MatchLeftOut"/> is not 0.</param>
/// <param name="MatchLeftOut">Code points of the match not shown; the text after it is then not shown either.</param>
/// <param name="After">Text after the match.</param>
/// <param name="CutBefore">True when <paramref name="Before"/> was shortened at its start.</param>
/// <param name="CutAfter">True when text after what is shown was left out.</param>
public sealed record Highlight(string Before, string Match, int MatchLeftOut, string After, bool CutBefore, bool CutAfter)
{
    /// <summary>
    /// Splits <paramref name="text"/> at a match given in code points, keeping up to
    /// <paramref name="context"/> code points on each side and up to <paramref name="maxMatch"/>
    /// of the match.
    /// </summary>
    public static Highlight Around(string text, int offset, int length, int context, int maxMatch)
    {
        var total = CodePoints.Count(text);
        offset = Math.Clamp(offset, 0, total);
        length = Math.Clamp(length, 0, total - offset);
        var start = Math.Max(0, offset - context);
        return Of(new TextExcerpt
        {
            Start = start,
            Before = CodePoints.Slice(text, start, offset - start),
            Match = CodePoints.Slice(text, offset, Math.Min(length, maxMatch)),
            After = CodePoints.Slice(text, offset + length, context),
        }, length, total);
    }

    /// <summary>
    /// A window task-service cut around a match of <paramref name="matchLength"/> code points in a
    /// text of <paramref name="textLength"/> (GetTask's TASK_VIEW_MATCH_CONTEXT).
    /// </summary>
    public static Highlight Of(TextExcerpt excerpt, int matchLength, int textLength)
    {
        var shown = CodePoints.Count(excerpt.Match);
        var matchEnd = excerpt.Start + CodePoints.Count(excerpt.Before) + matchLength;
        return shown < matchLength
            ? new Highlight(excerpt.Before, excerpt.Match, matchLength - shown, "", excerpt.Start > 0, matchEnd < textLength)
            : new Highlight(excerpt.Before, excerpt.Match, 0, excerpt.After, excerpt.Start > 0, matchEnd + CodePoints.Count(excerpt.After) < textLength);
    }
}
