namespace CeleryKube.Lcs;

/// <summary>A common substring found by an algorithm, in code points, before mapping back to the strings.</summary>
internal readonly record struct Candidate(int Length, int OffsetA, int OffsetB)
{
    public static Candidate None => new(0, 0, 0);

    /// <summary>Longer wins; on equal length the earlier start in a, then the earlier start in b.</summary>
    public bool IsBetterThan(Candidate other) =>
        Length != other.Length
            ? Length > other.Length
            : OffsetA != other.OffsetA ? OffsetA < other.OffsetA : OffsetB < other.OffsetB;
}
