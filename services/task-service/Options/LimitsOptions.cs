using System.ComponentModel.DataAnnotations;

namespace CeleryKube.TaskService.Options;

/// <summary>Input limits (<c>Limits__*</c>).</summary>
public sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Most code points accepted per text.</summary>
    [Range(1, 50_000_000)]
    public int MaxInputChars { get; set; } = 10_000_000;

    /// <summary>
    /// The gRPC message size that fits two texts at the limit: up to 4 UTF-8 bytes per code
    /// point each, plus room for the other fields.
    /// </summary>
    public int MaxMessageBytes => (int)Math.Min(int.MaxValue, 8L * MaxInputChars + 1024 * 1024);
}
