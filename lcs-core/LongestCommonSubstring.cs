namespace CeleryKube.Lcs;

/// <summary>Finds a longest common substring of two texts. Pure computation: no I/O, no shared state.</summary>
public static class LongestCommonSubstring
{
    /// <summary>
    /// Returns a longest common substring of <paramref name="a"/> and <paramref name="b"/>, compared by Unicode
    /// code point: a surrogate pair is never split and a lone surrogate is an ordinary value. Among several
    /// longest substrings the one starting earliest in <paramref name="a"/>, then earliest in
    /// <paramref name="b"/>, is returned. An empty text, or no common code point, gives
    /// <see cref="LcsResult.Empty"/>. Every algorithm returns the same result.
    /// </summary>
    /// <param name="a">First text.</param>
    /// <param name="b">Second text.</param>
    /// <param name="algorithm">Algorithm to use; the linear-time suffix array by default.</param>
    /// <param name="progress">
    /// Receives the fraction done (0..1, never decreasing) at most about every 250 ms on long runs, and 1 at the end.
    /// </param>
    /// <param name="cancellationToken">Observed at least about every 250 ms by every algorithm.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="a"/> or <paramref name="b"/> is null.</exception>
    /// <exception cref="ArgumentException">The texts together exceed the largest array .NET allows (suffix array only).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="algorithm"/> is not a defined value.</exception>
    public static LcsResult Find(
        string a,
        string b,
        LcsAlgorithm algorithm = LcsAlgorithm.SuffixArray,
        IProgress<double>? progress = null,
        CancellationToken cancellationToken = default) =>
        Find(a, b, new LcsOptions { Algorithm = algorithm }, progress, cancellationToken);

    /// <summary>
    /// Returns a longest common substring of <paramref name="a"/> and <paramref name="b"/>, exactly as
    /// <see cref="Find(string, string, LcsAlgorithm, IProgress{double}?, CancellationToken)"/> does, with the
    /// algorithm and the cores one call may use taken from <paramref name="options"/>.
    /// </summary>
    /// <param name="a">First text.</param>
    /// <param name="b">Second text.</param>
    /// <param name="options">Algorithm and parallelism.</param>
    /// <param name="progress">
    /// Receives the fraction done (0..1, never decreasing) at most about every 250 ms on long runs, and 1 at the end.
    /// </param>
    /// <param name="cancellationToken">Observed at least about every 250 ms by every algorithm.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="a"/>, <paramref name="b"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The texts together exceed the largest array .NET allows (suffix array only).</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The algorithm is not a defined value, or <see cref="LcsOptions.MaxDegreeOfParallelism"/> is less than 1.
    /// </exception>
    public static LcsResult Find(
        string a,
        string b,
        LcsOptions options,
        IProgress<double>? progress = null,
        CancellationToken cancellationToken = default) =>
        Find(a, b, options, progress, phases: null, cancellationToken);

    /// <summary>The one implementation; <paramref name="phases"/> (benchmark only) receives the suffix array's phase times.</summary>
    internal static LcsResult Find(
        string a,
        string b,
        LcsOptions options,
        IProgress<double>? progress,
        PhaseTimes? phases,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxDegreeOfParallelism, 1, nameof(options));
        cancellationToken.ThrowIfCancellationRequested();

        var meter = new ProgressMeter(progress, cancellationToken);
        Candidate found = options.Algorithm switch
        {
            LcsAlgorithm.SuffixArray => SuffixArrayLcs.Find(a, b, options.MaxDegreeOfParallelism, meter, phases),
            LcsAlgorithm.DynamicProgramming => DynamicProgrammingLcs.Find(CodePoints.Decode(a), CodePoints.Decode(b), meter),
            LcsAlgorithm.BruteForce => BruteForceLcs.Find(CodePoints.Decode(a), CodePoints.Decode(b), meter),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Algorithm, "Unknown LCS algorithm."),
        };
        meter.Complete();
        return CodePoints.ToResult(a, b, found.Length, found.OffsetA, found.OffsetB);
    }
}
