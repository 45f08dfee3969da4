namespace CeleryKube.Messaging;

/// <summary>
/// Counting in Unicode code points, the unit of every length and limit on the wire (routing,
/// input limits, the lengths workers report), shared so both sides count alike.
/// </summary>
public static class CodePoints
{
    /// <summary>
    /// Code points in <paramref name="text"/>: a surrogate pair counts once, a lone surrogate
    /// counts as one value of its own.
    /// </summary>
    public static int Count(string text)
    {
        var count = text.Length;
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1]))
            {
                count--;
                i++;
            }
        }
        return count;
    }
}
