namespace CeleryKube.Protos;

/// <summary>
/// The one definition of "code point" the wire uses: every length, offset and limit in the protos
/// counts Unicode code points, while C# strings index UTF-16 units, so a surrogate pair is two
/// chars but one code point, and a lone surrogate counts as one code point of its own (as
/// lcs-core's decoder treats it). Task-service, workers, the frontend and tests all count here.
/// </summary>
public static class CodePoints
{
    /// <summary>Number of code points in <paramref name="text"/>.</summary>
    public static int Count(string text)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            count++;
        }
        return count;
    }

    /// <summary>
    /// The UTF-16 index where code point number <paramref name="codePointOffset"/> starts,
    /// counting from UTF-16 index <paramref name="startIndex"/>; clamped to the string's bounds.
    /// </summary>
    public static int ToUtf16Index(string text, int codePointOffset, int startIndex = 0)
    {
        var index = startIndex;
        for (var seen = 0; seen < codePointOffset && index < text.Length; seen++)
        {
            var pair = char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]);
            index += pair ? 2 : 1;
        }
        return index;
    }

    /// <summary>The part of <paramref name="text"/> from code point <paramref name="start"/>, <paramref name="length"/> code points long (clamped).</summary>
    public static string Slice(string text, int start, int length)
    {
        var from = ToUtf16Index(text, Math.Max(0, start));
        var to = ToUtf16Index(text, Math.Max(0, length), from);
        return text[from..to];
    }
}
