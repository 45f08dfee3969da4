using CeleryKube.Protos;
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

        var beforeStart = Math.Max(0, offset - context);
        var before = CodePoints.Slice(text, beforeStart, offset - beforeStart);
        if (length > maxMatch)
        {
            return new Highlight(before, CodePoints.Slice(text, offset, maxMatch), length - maxMatch, "", beforeStart > 0, offset + length < total);
        }
        var afterStart = offset + length;
        var afterLength = Math.Min(context, total - afterStart);
        var after = CodePoints.Slice(text, afterStart, afterLength);
        return new Highlight(before, CodePoints.Slice(text, offset, length), 0, after, beforeStart > 0, afterStart + afterLength < total);
    }
}
