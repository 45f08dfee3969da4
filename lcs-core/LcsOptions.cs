namespace CeleryKube.Lcs;

/// <summary>How <see cref="LongestCommonSubstring"/> computes a result. The defaults match the simple overload.</summary>
public sealed record LcsOptions
{
    /// <summary>The algorithm; the linear-time suffix array by default. Every algorithm returns the same result.</summary>
    public LcsAlgorithm Algorithm { get; init; } = LcsAlgorithm.SuffixArray;

    /// <summary>
    /// How many cores one call may use: 1 (the default) or 2; larger values count as 2. Only the suffix array
    /// uses a second core, and only on inputs large enough (hundreds of thousands of code points) for it to pay.
    /// Meant for a worker that runs fewer jobs at once than its pod has cores.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;
}
