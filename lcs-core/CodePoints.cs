using System.Runtime.CompilerServices;

namespace CeleryKube.Lcs;

/// <summary>UTF-16 to code-point conversion that never throws: lone surrogates stay as their own values.</summary>
internal static class CodePoints
{
    /// <summary>Decodes <paramref name="text"/> into <paramref name="destination"/>; returns the number of code points written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Decode(ReadOnlySpan<char> text, Span<int> destination)
    {
        int count = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                destination[count++] = char.ConvertToUtf32(c, text[i + 1]);
                i++;
            }
            else
            {
                destination[count++] = c;
            }
        }

        return count;
    }

    /// <summary>Decodes a whole string into a new array of exactly the code-point count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int[] Decode(string text)
    {
        var buffer = new int[text.Length];
        int count = Decode(text, buffer);
        return count == buffer.Length ? buffer : buffer.AsSpan(0, count).ToArray();
    }

    /// <summary>UTF-16 index at which code point number <paramref name="codePointOffset"/> starts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Utf16Offset(string text, int utf16Start, int codePointOffset)
    {
        int index = utf16Start;
        for (int k = 0; k < codePointOffset; k++)
        {
            index += IsPairAt(text, index) ? 2 : 1;
        }

        return index;
    }

    /// <summary>Builds the result from code-point offsets, mapping them back to UTF-16 positions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static LcsResult ToResult(string a, string b, int length, int offsetA, int offsetB)
    {
        if (length == 0)
        {
            return LcsResult.Empty;
        }

        int utf16A = Utf16Offset(a, 0, offsetA);
        int utf16B = Utf16Offset(b, 0, offsetB);
        int utf16End = Utf16Offset(a, utf16A, length);
        return new LcsResult(length, a[utf16A..utf16End], offsetA, offsetB, utf16A, utf16B);
    }

    private static bool IsPairAt(string text, int index) =>
        char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]);
}
