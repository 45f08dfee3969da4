using CeleryKube.Lcs;
using CeleryKube.Protos;

namespace CeleryKube.Worker.Tests;

/// <summary>
/// lcs-core decodes texts with its own (allocation-free) decoder; the wire counts with
/// <see cref="CodePoints"/>. Both must mean the same thing by "code point", or a reported length
/// or offset would point somewhere else in the UI.
/// </summary>
public sealed class CodePointAgreementTests
{
    [Theory]
    [InlineData("plain ascii")]
    [InlineData("\U0001F600\u00e9\U0001F600 emoji and accents")]
    [InlineData("lone high \ud800 surrogate")]
    [InlineData("lone low \udc00 surrogate")]
    [InlineData("\udc00\ud800 reversed pair")]
    [InlineData("")]
    public void Lcs_core_and_the_wire_count_the_same_code_points(string text)
    {
        var result = LongestCommonSubstring.Find(text, text);
        Assert.Equal(CodePoints.Count(text), result.Length);
        Assert.Equal(text, result.Substring);
    }

    [Fact]
    public void Offsets_from_lcs_core_slice_the_same_text_the_ui_highlights()
    {
        var random = new Random(12);
        string Text() => string.Concat(Enumerable.Range(0, 300).Select(_ => random.Next(4) switch
        {
            0 => "\U0001F600",
            1 => "\ud800",
            2 => "a",
            _ => "b",
        }));
        for (var i = 0; i < 50; i++)
        {
            var (a, b) = (Text(), Text());
            var result = LongestCommonSubstring.Find(a, b);
            Assert.Equal(result.Substring, CodePoints.Slice(a, result.OffsetA, result.Length));
            Assert.Equal(result.Substring, CodePoints.Slice(b, result.OffsetB, result.Length));
        }
    }
}
