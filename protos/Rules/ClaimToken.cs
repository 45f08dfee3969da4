using System.Security.Cryptography;
using System.Text;

namespace CeleryKube.Protos;

/// <summary>
/// The secret that binds an attempt's reports to the worker it was given to: the shared
/// ResultSink token only proves "a worker", and attempt numbers are guessable. StartTask answers
/// with a new one; a FinishTask call brings the one its worker made for the run, so a retry of that
/// call is known as the same call. task-service keeps a SHA-256 of it, never the token.
/// </summary>
public static class ClaimToken
{
    /// <summary>The shortest token a worker may bring: 128 bits in base64, so it cannot be guessed.</summary>
    public const int MinLength = 22;

    /// <summary>A new random token (256 bits, URL-safe base64).</summary>
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>What the store keeps: the token's SHA-256 in hex.</summary>
    public static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>True when <paramref name="presented"/> hashes to <paramref name="storedHash"/>, compared in constant time.</summary>
    public static bool Matches(string? storedHash, string? presented) =>
        storedHash is not null && presented is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(presented)), Encoding.ASCII.GetBytes(storedHash));
}
