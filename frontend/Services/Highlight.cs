namespace CeleryKube.Frontend.Services;

/// <summary>
/// A text cut into three parts around the common substring, ready to render as
/// <c>before&lt;mark&gt;match&lt;/mark&gt;after</c>. Parts may be shortened for display.
/// </summary>
/// <param name="Before">Text before the match.</param>
/// <param name="Match">The match itself.</param>
/// <param name="After">Text after the match.</param>
/// <param name="CutBefore">True when <paramref name="Before"/> was shortened at its start.</param>
/// <param name="CutMatch">True when the middle of <paramref name="Match"/> was left out.</param>
/// <param name="CutAfter">True when <paramref name="After"/> was shortened at its end.</param>
public sealed record Highlight(string Before, string Match, string After, bool CutBefore, bool CutMatch, bool CutAfter)
{
    /// <summary>
    /// Splits <paramref name="text"/> at a match given in code points, keeping up to
    /// <paramref name="context"/> code points on each side and up to <paramref name="maxMatch"/>
    /// of the match (its start and end, the middle elided).
    /// </summary>
    public static Highlight Around(string text, int offset, int length, int context, int maxMatch)
    {
        var total = CodePoints.Count(text);
        offset = Math.Clamp(offset, 0, total);
        length = Math.Clamp(length, 0, total - offset);

        var beforeStart = Math.Max(0, offset - context);
        var before = CodePoints.Slice(text, beforeStart, offset - beforeStart);
        var afterStart = offset + length;
        var afterLength = Math.Min(context, total - afterStart);
        var after = CodePoints.Slice(text, afterStart, afterLength);

        string match;
        var cutMatch = length > maxMatch;
        if (cutMatch)
        {
            var head = maxMatch * 2 / 3;
            var tail = maxMatch - head;
            match = CodePoints.Slice(text, offset, head) + "\u2026" + CodePoints.Slice(text, offset + length - tail, tail);
        }
        else
        {
            match = CodePoints.Slice(text, offset, length);
        }
        return new Highlight(before, match, after, beforeStart > 0, cutMatch, afterStart + afterLength < total);
    }
}
