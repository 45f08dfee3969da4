namespace CeleryKube.Lcs.Tests;

/// <summary>
/// The shapes where SA-IS recurses deepest or its buckets degenerate (one symbol repeated, Fibonacci words,
/// short periods, long runs) and every text width the suffix array uses (bytes, 16-bit, 32-bit symbols):
/// the suffix array against a plain sort of the suffixes, and the LCS against the DP reference.
/// </summary>
public sealed class StressShapeTests
{
    public static TheoryData<string> Shapes => new(["a^n", "(ab)^n", "fibonacci", "period 7", "long runs", "random 2 letters"]);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SuffixArrayEqualsPlainSortOnStressShapes(string shape)
    {
        foreach (int length in new[] { 1, 2, 3, 5, 17, 64, 257, 1_500 })
        {
            AssertSuffixArrayIsSorted(Ranked(Shape(shape, length, seed: length)), shape);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void LongStressShapesSortCorrectly(string shape)
    {
        // Over a million symbols: the recursion goes as deep as these shapes make it on real inputs.
        int[] text = Ranked(Shape(shape, 1_200_000, seed: 3));
        int[] sa = new int[text.Length];
        SaIs.Build<byte>(text.Select(s => (byte)s).ToArray(), sa, new int[text.Length], text.Max() + 1, new ProgressMeter(null, CancellationToken.None), 0, 1);
        AssertSortedNeighbours(text, sa, shape);
    }

    [Theory]
    [InlineData(200)] // bytes
    [InlineData(5_000)] // 16-bit symbols
    [InlineData(70_000)] // 32-bit symbols: more distinct values than 16 bits hold
    public void SuffixArrayEqualsPlainSortForEveryTextWidth(int distinct)
    {
        var random = new Random(distinct);
        int[] text = Enumerable.Range(0, 3 * distinct).Select(_ => random.Next(distinct)).ToArray();

        // Repeat a slice so the LMS substrings are not all distinct and the recursion has work to do.
        text.AsSpan(0, distinct).CopyTo(text.AsSpan(distinct));
        AssertSuffixArrayIsSorted(Ranked(text), $"{distinct} symbols");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void LcsMatchesDpOnStressShapes(string shape)
    {
        foreach ((int lengthA, int lengthB) in new[] { (1, 1), (7, 30), (300, 200), (1_200, 1_100) })
        {
            string a = Letters(Shape(shape, lengthA, seed: lengthA));
            string b = Letters(Shape(shape, lengthB, seed: lengthB + 1)[(lengthB / 3)..]) + Letters(Shape(shape, lengthB / 3, seed: 5));
            var expected = LongestCommonSubstring.Find(a, b, LcsAlgorithm.DynamicProgramming);
            Assert.Equal(expected, LongestCommonSubstring.Find(a, b));
        }
    }

    /// <summary>Lowest first: the symbols the generators produce, as a text of small letters.</summary>
    private static string Letters(int[] symbols) => string.Concat(symbols.Select(s => (char)('a' + s)));

    private static int[] Shape(string shape, int length, int seed)
    {
        var random = new Random(seed);
        return shape switch
        {
            "a^n" => new int[length],
            "(ab)^n" => Enumerable.Range(0, length).Select(i => i % 2).ToArray(),
            "fibonacci" => Fibonacci(length),
            "period 7" => Enumerable.Range(0, length).Select(i => "abcabdc"[i % 7] - 'a').ToArray(),
            "long runs" => LongRuns(random, length),
            "random 2 letters" => Enumerable.Range(0, length).Select(_ => random.Next(2)).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
    }

    /// <summary>The Fibonacci word (a, ab, aba, abaab, ...) cut to length.</summary>
    private static int[] Fibonacci(int length)
    {
        var previous = new List<int> { 0 };
        var current = new List<int> { 0, 1 };
        while (current.Count < length)
        {
            (previous, current) = (current, [.. current, .. previous]);
        }

        return current.Take(length).ToArray();
    }

    private static int[] LongRuns(Random random, int length)
    {
        var text = new List<int>();
        while (text.Count < length)
        {
            text.AddRange(Enumerable.Repeat(random.Next(3), random.Next(1, 200)));
        }

        return text.Take(length).ToArray();
    }

    /// <summary>Symbols shifted up by one and the unique 0 sentinel appended, as the suffix array needs.</summary>
    private static int[] Ranked(int[] symbols) => [.. symbols.Select(s => s + 1), 0];

    /// <summary>
    /// Linear check for long texts (Burkhardt and Kärkkäinen): a permutation in which each suffix is smaller
    /// than the next by its first symbol or, on a tie, by the rank of the suffix after it.
    /// </summary>
    private static void AssertSortedNeighbours(int[] text, int[] sa, string context)
    {
        int[] rank = new int[text.Length];
        Array.Fill(rank, -1);
        for (int k = 0; k < sa.Length; k++)
        {
            Assert.True(sa[k] >= 0 && sa[k] < text.Length && rank[sa[k]] < 0, $"{context}: not a permutation at {k}");
            rank[sa[k]] = k;
        }

        for (int k = 1; k < sa.Length; k++)
        {
            int x = sa[k - 1];
            int y = sa[k];
            bool ordered = text[x] < text[y] || (text[x] == text[y] && rank[x + 1] < rank[y + 1]);
            Assert.True(ordered, $"{context}: suffixes {x} and {y} out of order at {k}");
        }
    }

    private static void AssertSuffixArrayIsSorted(int[] text, string context)
    {
        int alphabet = text.Max() + 1;
        int[] expected = Enumerable.Range(0, text.Length).ToArray();
        Array.Sort(expected, (x, y) => text.AsSpan(x).SequenceCompareTo(text.AsSpan(y)));

        int[] sa = new int[text.Length];
        int[] scratch = new int[text.Length];
        var meter = new ProgressMeter(null, CancellationToken.None);
        if (alphabet <= byte.MaxValue + 1)
        {
            SaIs.Build<byte>(text.Select(s => (byte)s).ToArray(), sa, scratch, alphabet, meter, 0, 1);
        }
        else if (alphabet <= ushort.MaxValue + 1)
        {
            SaIs.Build<ushort>(text.Select(s => (ushort)s).ToArray(), sa, scratch, alphabet, meter, 0, 1);
        }
        else
        {
            SaIs.Build<int>(text, sa, scratch, alphabet, meter, 0, 1);
        }

        Assert.True(expected.SequenceEqual(sa), $"{context}, length {text.Length}: suffix array differs from a plain sort");
    }
}
