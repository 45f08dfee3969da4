namespace CeleryKube.Bench.Pipeline;

/// <summary>Inputs for the benchmark: random texts, a different pair for every task.</summary>
public static class Texts
{
    private static readonly Random Shared = new(20261125);

    /// <summary>A random lowercase ASCII text of <paramref name="length"/> characters.</summary>
    public static string Random(int length, string alphabet = "abcdefghijklmnopqrstuvwxyz")
    {
        var chars = new char[length];
        lock (Shared)
        {
            for (var i = 0; i < length; i++) chars[i] = alphabet[Shared.Next(alphabet.Length)];
        }
        return new string(chars);
    }
}
