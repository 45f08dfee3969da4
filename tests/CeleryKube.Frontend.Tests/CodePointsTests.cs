using CeleryKube.Frontend.Services;

namespace CeleryKube.Frontend.Tests;

public sealed class CodePointsTests
{
    private const string Grin = "\U0001F600"; // one code point, two UTF-16 chars

    [Fact]
    public void Count_counts_a_surrogate_pair_once() =>
        Assert.Equal(4, CodePoints.Count($"a{Grin}b{Grin}"));

    [Fact]
    public void Slice_takes_code_points_not_chars() =>
        Assert.Equal($"{Grin}b", CodePoints.Slice($"a{Grin}b{Grin}", 1, 2));

    [Fact]
    public void Slice_clamps_to_the_text() =>
        Assert.Equal($"b{Grin}", CodePoints.Slice($"a{Grin}b{Grin}", 2, 100));

    [Fact]
    public void A_lone_surrogate_counts_as_one_code_point() =>
        Assert.Equal(2, CodePoints.Count("\uD83Dx"));
}

public sealed class HighlightTests
{
    private const string Grin = "\U0001F600";

    [Fact]
    public void Marks_the_match_at_a_code_point_offset_after_surrogate_pairs()
    {
        var h = Highlight.Around($"{Grin}\u00e9{Grin} needle tail", offset: 2, length: 8, context: 100, maxMatch: 100);
        Assert.Equal($"{Grin}\u00e9", h.Before);
        Assert.Equal($"{Grin} needle", h.Match);
        Assert.Equal(" tail", h.After);
        Assert.False(h.CutBefore || h.CutMatch || h.CutAfter);
    }

    [Fact]
    public void Cuts_long_context_and_long_matches()
    {
        var text = new string('x', 50) + new string('m', 30) + new string('y', 50);
        var h = Highlight.Around(text, offset: 50, length: 30, context: 5, maxMatch: 9);
        Assert.Equal("xxxxx", h.Before);
        Assert.Equal("yyyyy", h.After);
        Assert.Equal("mmmmmm\u2026mmm", h.Match);
        Assert.True(h.CutBefore && h.CutMatch && h.CutAfter);
    }

    [Fact]
    public void An_empty_result_marks_nothing()
    {
        var h = Highlight.Around("abc", offset: 0, length: 0, context: 10, maxMatch: 10);
        Assert.Equal("", h.Match);
        Assert.Equal("abc", h.After);
    }
}
