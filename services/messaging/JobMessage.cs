namespace CeleryKube.Messaging;

/// <summary>
/// The rule that keeps job messages small whatever the input: the texts ride in the message only
/// while both together are at most <see cref="MaxInlineTextBytes"/> of UTF-8; larger inputs stay
/// in the task store and the worker streams them from task-service (ResultSinkService.ReadTaskInput).
/// RabbitMQ 4 refuses messages over 16 MiB by default and RabbitMQ.Client closes a connection on
/// frames over 64 MiB, while two texts at the input limit can reach 80 MB.
/// </summary>
public static class JobMessage
{
    /// <summary>Most UTF-8 bytes of text one job message carries (1 MiB).</summary>
    public const int MaxInlineTextBytes = 1024 * 1024;

    /// <summary>
    /// Most code points of text (both texts together) one job message carries: the byte limit at
    /// the worst case of 4 UTF-8 bytes per code point, so the decision needs only the stored
    /// lengths, never the texts. Small-queue jobs always travel inline (the fast path).
    /// </summary>
    public const int MaxInlineCodePoints = MaxInlineTextBytes / 4;

    /// <summary>True when texts of these code-point lengths travel in the message.</summary>
    public static bool CarriesTexts(int textALength, int textBLength) => (long)textALength + textBLength <= MaxInlineCodePoints;
}
