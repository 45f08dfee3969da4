namespace CeleryKube.Lcs;

/// <summary>Which algorithm <see cref="LongestCommonSubstring"/> uses. All return identical results.</summary>
public enum LcsAlgorithm
{
    /// <summary>Linear time: SA-IS suffix array over both texts, permuted LCP, one scan. The default.</summary>
    SuffixArray = 0,

    /// <summary>O(n*m) time, O(min(n, m)) memory dynamic programme; the reference implementation.</summary>
    DynamicProgramming = 1,

    /// <summary>The original toy's algorithm: every start pair, extend while equal. Deliberately slow CPU load.</summary>
    BruteForce = 2,
}
