namespace CeleryKube.Lcs.Tests;

/// <summary>Checks a result against the strings themselves, independent of any algorithm.</summary>
internal static class ResultChecks
{
    public static void AssertIsCommonSubstring(string a, string b, LcsResult result, int seed)
    {
        string context = $"seed {seed}, a = \"{TextGenerator.Show(a)}\", b = \"{TextGenerator.Show(b)}\"";
        Assert.True(result.Substring == a.Substring(result.Utf16OffsetA, result.Substring.Length), context);
        Assert.True(result.Substring == b.Substring(result.Utf16OffsetB, result.Substring.Length), context);

        int[] whole = CodePointsOf(result.Substring);
        Assert.True(whole.Length == result.Length, context);
        Assert.True(CodePointsOf(a[..result.Utf16OffsetA]).Length == result.OffsetA, context);
        Assert.True(CodePointsOf(b[..result.Utf16OffsetB]).Length == result.OffsetB, context);

        // Never starts or ends in the middle of a surrogate pair.
        Assert.True(!SplitsPair(a, result.Utf16OffsetA) && !SplitsPair(a, result.Utf16OffsetA + result.Substring.Length), context);
        Assert.True(!SplitsPair(b, result.Utf16OffsetB) && !SplitsPair(b, result.Utf16OffsetB + result.Substring.Length), context);
    }

    /// <summary>Code points by an independent route (lone surrogates become one value each).</summary>
    public static int[] CodePointsOf(string text)
    {
        var values = new List<int>();
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsSurrogatePair(text, i))
            {
                values.Add(char.ConvertToUtf32(text[i], text[i + 1]));
                i++;
            }
            else
            {
                values.Add(text[i]);
            }
        }

        return [.. values];
    }

    private static bool SplitsPair(string text, int index) =>
        index > 0 && index < text.Length && char.IsSurrogatePair(text[index - 1], text[index]);
}
