using System.Globalization;

namespace CeleryKube.Bench.Lcs;

/// <summary>Command-line options of the benchmark.</summary>
internal sealed record BenchOptions(bool Quick, int[] Sizes, ReferenceBuild? Reference, bool SideBySideOnly)
{
    public static BenchOptions Parse(string[] args)
    {
        bool quick = args.Contains("--quick");
        int[] sizes = quick ? [1_000, 10_000, 100_000, 1_000_000] : [1_000, 10_000, 100_000, 1_000_000, 10_000_000];
        string? sizesArgument = ValueOf(args, "--sizes");
        if (sizesArgument is not null)
        {
            sizes = sizesArgument.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }

        string? referencePath = ValueOf(args, "--reference");
        return new BenchOptions(quick, sizes, referencePath is null ? null : new ReferenceBuild(referencePath), args.Contains("--side-by-side-only"));
    }

    /// <summary>Rounds of the side-by-side comparison: each round runs every build once.</summary>
    public int RoundsFor(int size) => size switch
    {
        <= 1_000 => Quick ? 200 : 2_000,
        <= 10_000 => Quick ? 20 : 50,
        <= 100_000 => Quick ? 5 : 10,
        <= 1_000_000 => Quick ? 3 : 7,
        _ => 5,
    };

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string? ValueOf(string[] args, string name)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
