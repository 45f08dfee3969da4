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
    /// Most WatchTasks streams open at once on one task-service (the frontend holds one per open
    /// live page); beyond it WatchTasks answers RESOURCE_EXHAUSTED. All streams share one read of
    /// each commit, so the cost of a stream is its memory and its socket.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxWatchStreams { get; set; } = 2000;

    /// <summary>
    /// Most bytes of submitted texts held at once between a SubmitLcs request being read and its
    /// commit (2 bytes per UTF-16 unit, as task-service holds them); beyond it SubmitLcs answers
    /// RESOURCE_EXHAUSTED and stores nothing. A submission alone is always let through, so every
    /// input <see cref="MaxInputChars"/> accepts can be submitted.
    /// </summary>
    [Range(1d, long.MaxValue)]
    public long MaxSubmitBytesInFlight { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// The gRPC message size that fits two texts at the limit: up to 4 UTF-8 bytes per code
    /// point each, plus room for the other fields.
    /// </summary>
    public int MaxMessageBytes => (int)Math.Min(int.MaxValue, 8L * MaxInputChars + 1024 * 1024);

    /// <summary>
    /// Kestrel's request body limit: above <see cref="MaxMessageBytes"/> (the gRPC frame header and
    /// JSON quoting), so every message gRPC accepts gets through and gRPC's own size check, which
    /// answers RESOURCE_EXHAUSTED, is the one a client meets.
    /// </summary>
    public long MaxRequestBodyBytes => 2L * MaxMessageBytes;
}
