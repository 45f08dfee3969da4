using System.Text;

namespace CeleryKube.Lcs.Tests;

/// <summary>Seeded random texts; every kind includes characters that exercise the code-point semantics.</summary>
internal static class TextGenerator
{
    public static string FromAlphabet(Random random, string alphabet, int length)
    {
        var builder = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return builder.ToString();
    }

    /// <summary>
    /// A small pool of BMP letters, astral characters (surrogate pairs) and lone surrogates, chosen so that
    /// lone halves sometimes sit next to each other or next to a pair and must still not match it.
    /// </summary>
    public static string UnicodeMix(Random random, int length)
    {
        string[] pool =
        [
            "a", "b", "\u00e9", "e", "\u0301", "\u4e2d",
            "\U0001F600", "\U0001F601", "\U00010000",
            "\ud83d", "\ude00", "\ud800", "\udc00",
        ];
        var builder = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++)
        {
            builder.Append(pool[random.Next(pool.Length)]);
        }

        return builder.ToString();
    }

    /// <summary>Escapes a text for failure messages so lone surrogates and marks are visible.</summary>
    public static string Show(string text)
    {
        var builder = new StringBuilder();
        foreach (char c in text)
        {
            builder.Append(c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}");
        }

        return builder.ToString();
    }
}
