namespace CeleryKube.Lcs;

/// <summary>
/// A longest common substring of two texts. Offsets and <see cref="Length"/> count Unicode code points
/// (a surrogate pair is one code point, a lone surrogate is one code point);
/// the <c>Utf16</c> offsets index the original .NET strings.
/// </summary>
/// <param name="Length">Length of the common substring in code points; 0 when there is none.</param>
/// <param name="Substring">The common substring itself; empty when there is none.</param>
/// <param name="OffsetA">Code-point offset of the substring in the first text; 0 when there is none.</param>
/// <param name="OffsetB">Code-point offset of the substring in the second text; 0 when there is none.</param>
/// <param name="Utf16OffsetA">UTF-16 offset of the substring in the first text (for <see cref="string.Substring(int)"/>).</param>
/// <param name="Utf16OffsetB">UTF-16 offset of the substring in the second text.</param>
public sealed record LcsResult(
    int Length,
    string Substring,
    int OffsetA,
    int OffsetB,
    int Utf16OffsetA,
    int Utf16OffsetB)
{
    /// <summary>The result for texts with no common code point (or an empty text).</summary>
    public static LcsResult Empty { get; } = new(0, string.Empty, 0, 0, 0, 0);
}
