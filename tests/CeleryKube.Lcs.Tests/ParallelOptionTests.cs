namespace CeleryKube.Lcs.Tests;

/// <summary>A second core changes nothing but speed: same answers, same tie-break, same cancellation.</summary>
public sealed class ParallelOptionTests
{
    private static readonly LcsOptions TwoCores = new() { MaxDegreeOfParallelism = 2 };

    [Theory]
    [InlineData("ACGT", 1)]
    [InlineData("ab", 2)]
    [InlineData("\u00e9\U0001F600ab", 3)]
    public void TwoCoresGiveTheSameResultAsOne(string alphabet, int seed)
    {
        // Large enough (over 2^20 symbols) for every two-thread pass; the same substring planted several times in both texts so that
        // the tie-break (earliest in a, then in b) has to compare runs found by both halves of the scan.
        var random = new Random(seed);
        string planted = TextGenerator.FromAlphabet(random, alphabet, 40);
        string a = Plant(TextGenerator.FromAlphabet(random, alphabet, 700_000), planted, random);
        string b = Plant(TextGenerator.FromAlphabet(random, alphabet, 700_000), planted, random);

        var one = LongestCommonSubstring.Find(a, b);
        var two = LongestCommonSubstring.Find(a, b, TwoCores);

        Assert.Equal(one, two);
        ResultChecks.AssertIsCommonSubstring(a, b, two, seed);
        Assert.True(two.Length >= ResultChecks.CodePointsOf(planted).Length);
    }

    [Fact]
    public void TwoCoresAgreeWithDpOnSmallInputs()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            string a = TextGenerator.FromAlphabet(random, "ab", random.Next(60));
            string b = TextGenerator.FromAlphabet(random, "ab", random.Next(60));
            Assert.Equal(LongestCommonSubstring.Find(a, b, LcsAlgorithm.DynamicProgramming), LongestCommonSubstring.Find(a, b, TwoCores));
        }
    }

    [Fact]
    public void CancellationStopsBothThreads()
    {
        var random = new Random(4);
        string a = TextGenerator.FromAlphabet(random, "ACGT", 5_000_000);
        string b = TextGenerator.FromAlphabet(random, "ACGT", 5_000_000);

        // Cancelled from the first progress report (after about 250 ms, in the middle of the suffix array), so no
        // timer has to win a thread on a busy machine.
        using var cancellation = new CancellationTokenSource();
        var cancelOnFirstReport = new InlineProgress(_ => cancellation.Cancel());

        Assert.ThrowsAny<OperationCanceledException>(() => LongestCommonSubstring.Find(a, b, TwoCores, cancelOnFirstReport, cancellation.Token));

        // The arrays went back to the pool only after both threads stopped: the next call is still right.
        string small = TextGenerator.FromAlphabet(random, "ACGT", 300_000);
        Assert.Equal(LongestCommonSubstring.Find(small, b[..300_000]), LongestCommonSubstring.Find(small, b[..300_000], TwoCores));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ParallelismBelowOneIsRejected(int degree)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LongestCommonSubstring.Find("abc", "bcd", new LcsOptions { MaxDegreeOfParallelism = degree }));
    }

    private static string Plant(string text, string planted, Random random)
    {
        var builder = new System.Text.StringBuilder(text);
        for (int i = 0; i < 3; i++)
        {
            int at = random.Next(text.Length - planted.Length);
            while (at > 0 && char.IsLowSurrogate(builder[at]))
            {
                at--;
            }

            builder.Insert(at, planted);
        }

        return builder.ToString();
    }

    /// <summary>Calls back on the reporting thread itself, unlike <see cref="Progress{T}"/>.</summary>
    private sealed class InlineProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
