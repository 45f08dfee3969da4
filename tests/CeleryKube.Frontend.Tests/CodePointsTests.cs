using CeleryKube.Protos;
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
        Assert.False(h.CutBefore || h.CutAfter);
        Assert.Equal(0, h.MatchLeftOut);
    }

    [Fact]
    public void Cuts_long_context()
    {
        var text = new string('x', 50) + new string('m', 30) + new string('y', 50);
        var h = Highlight.Around(text, offset: 50, length: 30, context: 5, maxMatch: 30);
        Assert.Equal("xxxxx", h.Before);
        Assert.Equal(new string('m', 30), h.Match);
        Assert.Equal("yyyyy", h.After);
        Assert.True(h.CutBefore && h.CutAfter);
    }

    [Fact]
    public void A_long_match_is_shown_from_its_start_in_one_piece_with_what_was_left_out()
    {
        var text = new string('x', 50) + "m" + new string('n', 28) + "o" + new string('y', 50);
        var h = Highlight.Around(text, offset: 50, length: 30, context: 5, maxMatch: 9);
        Assert.Equal("xxxxx", h.Before);
        Assert.Equal("mnnnnnnnn", h.Match);
        Assert.DoesNotContain("\u2026", h.Match);
        Assert.Equal(21, h.MatchLeftOut);
        Assert.Equal("", h.After); // text after an unseen end would not read as "after the match"
        Assert.True(h.CutBefore && h.CutAfter);
    }

    [Fact]
    public void An_empty_result_marks_nothing()
    {
        var h = Highlight.Around("abc", offset: 0, length: 0, context: 10, maxMatch: 10);
        Assert.Equal("", h.Match);
        Assert.Equal("abc", h.After);
    }
}
