namespace CeleryKube.Lcs.Tests;

/// <summary>Property tests: the default and the brute force agree exactly with the DP reference.</summary>
public sealed class AgreementTests
{
    public static TheoryData<string, int> Alphabets => new()
    {
        { "a", 1 },
        { "ab", 2 },
        { "acgt", 4 },
        { "abcdefghijklmnopqrstuvwxyz", 26 },
    };

    [Theory]
    [MemberData(nameof(Alphabets))]
    public void SuffixArrayAndBruteForceMatchDpOnRandomLetters(string alphabet, int seedSalt)
    {
        RunPairs(2000, 1000 + seedSalt, maxLength: 40, (random, length) => TextGenerator.FromAlphabet(random, alphabet, length));
    }

    [Fact]
    public void SuffixArrayAndBruteForceMatchDpOnRandomUnicodeWithSurrogates()
    {
        RunPairs(2000, 7, maxLength: 40, TextGenerator.UnicodeMix);
    }

    [Theory]
    [MemberData(nameof(Alphabets))]
    public void SuffixArrayMatchesDpOnLongerRandomLetters(string alphabet, int seedSalt)
    {
        RunPairs(150, 5000 + seedSalt, maxLength: 600, (random, length) => TextGenerator.FromAlphabet(random, alphabet, length), includeBruteForce: false);
    }

    [Fact]
    public void SuffixArrayMatchesDpOnLongerRandomUnicode()
    {
        RunPairs(150, 99, maxLength: 600, TextGenerator.UnicodeMix, includeBruteForce: false);
    }

    private static void RunPairs(int count, int baseSeed, int maxLength, Func<Random, int, string> generate, bool includeBruteForce = true)
    {
        for (int i = 0; i < count; i++)
        {
            int seed = (baseSeed * 100_003) + i;
            var random = new Random(seed);
            string a = generate(random, random.Next(maxLength + 1));
            string b = generate(random, random.Next(maxLength + 1));

            var expected = LongestCommonSubstring.Find(a, b, LcsAlgorithm.DynamicProgramming);
            ResultChecks.AssertIsCommonSubstring(a, b, expected, seed);
            AssertSame(expected, LongestCommonSubstring.Find(a, b, LcsAlgorithm.SuffixArray), a, b, seed, "SuffixArray");
            if (includeBruteForce)
            {
                AssertSame(expected, LongestCommonSubstring.Find(a, b, LcsAlgorithm.BruteForce), a, b, seed, "BruteForce");
            }
        }
    }

    private static void AssertSame(LcsResult expected, LcsResult actual, string a, string b, int seed, string algorithm)
    {
        if (expected != actual)
        {
            Assert.Fail(
                $"{algorithm} disagrees with DP (seed {seed}).\n a = \"{TextGenerator.Show(a)}\"\n b = \"{TextGenerator.Show(b)}\"\n" +
                $" expected {expected with { Substring = TextGenerator.Show(expected.Substring) }}\n" +
                $" actual   {actual with { Substring = TextGenerator.Show(actual.Substring) }}");
        }
    }
}
