namespace CeleryKube.Lcs.Tests;

/// <summary>Small cases with known answers, checked for every algorithm.</summary>
public sealed class HandCaseTests
{
    public static TheoryData<LcsAlgorithm> Algorithms => new(Enum.GetValues<LcsAlgorithm>());

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void EmptyInputsGiveEmptyResult(LcsAlgorithm algorithm)
    {
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("", "", algorithm));
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("abc", "", algorithm));
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("", "abc", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void NoCommonCharacterGivesEmptyResult(LcsAlgorithm algorithm)
    {
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("abc", "xyz", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void IdenticalTextsMatchWhole(LcsAlgorithm algorithm)
    {
        Assert.Equal(new LcsResult(6, "banana", 0, 0, 0, 0), LongestCommonSubstring.Find("banana", "banana", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void OneInsideTheOther(LcsAlgorithm algorithm)
    {
        Assert.Equal(new LcsResult(3, "nan", 2, 0, 2, 0), LongestCommonSubstring.Find("banana", "nan", algorithm));
        Assert.Equal(new LcsResult(3, "nan", 0, 2, 0, 2), LongestCommonSubstring.Find("nan", "banana", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void OverlappingRepeats(LcsAlgorithm algorithm)
    {
        // "aaaa" occurs in "aaaaa" at 0 and 1; "abab" overlaps itself in "ababab".
        Assert.Equal(new LcsResult(4, "aaaa", 0, 1, 0, 1), LongestCommonSubstring.Find("aaaaa", "xaaaa", algorithm));
        Assert.Equal(new LcsResult(5, "ababa", 0, 1, 0, 1), LongestCommonSubstring.Find("ababab", "bababa", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void OneCharacterInputs(LcsAlgorithm algorithm)
    {
        Assert.Equal(new LcsResult(1, "x", 0, 0, 0, 0), LongestCommonSubstring.Find("x", "x", algorithm));
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("x", "y", algorithm));
        Assert.Equal(new LcsResult(1, "x", 0, 2, 0, 2), LongestCommonSubstring.Find("x", "abx", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void CombiningMarkIsNotPrecomposedLetter(LcsAlgorithm algorithm)
    {
        // "e" + U+0301 renders like "é" (U+00E9) but is a different code point sequence: exact match only.
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("\u00e9", "e\u0301", algorithm));
        Assert.Equal(new LcsResult(1, "e", 0, 1, 0, 1), LongestCommonSubstring.Find("e\u00e9", "\u00e9e\u0301", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void SurrogatePairIsOneCodePointAndNeverSplit(LcsAlgorithm algorithm)
    {
        // U+1F600 and U+1F601 share the high surrogate U+D83D; sharing it is no match.
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("\U0001F600", "\U0001F601", algorithm));

        var result = LongestCommonSubstring.Find("ab\U0001F600c", "\U0001F600c", algorithm);
        Assert.Equal(new LcsResult(2, "\U0001F600c", 2, 0, 2, 0), result);

        // Code-point offsets count the pair once; UTF-16 offsets count both halves.
        Assert.Equal(new LcsResult(3, "-xy", 1, 0, 2, 0), LongestCommonSubstring.Find("\U0001F600-xy", "-xy", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void LoneSurrogatesAreOrdinaryValues(LcsAlgorithm algorithm)
    {
        // A lone high surrogate matches itself but not the first half of a pair.
        Assert.Equal(new LcsResult(2, "\ud83dx", 1, 0, 1, 0), LongestCommonSubstring.Find("a\ud83dx", "\ud83dx", algorithm));
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("\ud83d", "\U0001F600", algorithm));
        Assert.Equal(LcsResult.Empty, LongestCommonSubstring.Find("\ude00", "\U0001F600", algorithm));
        Assert.Equal(new LcsResult(1, "\ude00", 0, 1, 0, 1), LongestCommonSubstring.Find("\ude00", "x\ude00", algorithm));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void TieBreakPrefersEarliestInAThenEarliestInB(LcsAlgorithm algorithm)
    {
        // "ab" and "cd" both have length 2; "cd" comes first in a.
        Assert.Equal(new LcsResult(2, "cd", 0, 3, 0, 3), LongestCommonSubstring.Find("cd-ab", "ab-cd", algorithm));

        // Same substring twice in b: the earlier one in b wins.
        Assert.Equal(new LcsResult(2, "xy", 1, 0, 1, 0), LongestCommonSubstring.Find("-xy", "xy+xy", algorithm));

        // "xy" twice in a and twice in b: earliest in a, then earliest in b.
        Assert.Equal(new LcsResult(2, "xy", 0, 1, 0, 1), LongestCommonSubstring.Find("xy.xy", "+xy+xy", algorithm));

        // Single characters tie everywhere: first character of a, its first occurrence in b.
        Assert.Equal(new LcsResult(1, "b", 0, 1, 0, 1), LongestCommonSubstring.Find("bca", "abx", algorithm));
    }

    [Fact]
    public void UnknownAlgorithmIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LongestCommonSubstring.Find("a", "a", (LcsAlgorithm)42));
    }

    [Fact]
    public void NullTextIsRejected()
    {
        Assert.Throws<ArgumentNullException>(() => LongestCommonSubstring.Find(null!, "a"));
        Assert.Throws<ArgumentNullException>(() => LongestCommonSubstring.Find("a", null!));
    }
}
