using System.Diagnostics;
using CeleryKube.Lcs;

namespace CeleryKube.Bench.Lcs;

/// <summary>
/// The suffix array of this build, on one and on two threads, against a reference build, in one process:
/// each round runs reference, new, new on two threads, one after the other, so drift in machine load hits all
/// three alike. Also the per-phase times of this build and the working memory of both.
/// </summary>
internal static class SideBySide
{
    private static readonly string[] PhaseNames = ["code points", "suffix array", "LCP", "scan"];

    public static void PrintHeader(ReferenceBuild? reference)
    {
        Console.WriteLine("## Suffix array side by side" + (reference is null ? " (no --reference given: this build only)" : string.Empty));
        Console.WriteLine();
        if (reference is not null)
        {
            Console.WriteLine($"# reference: {reference.Path}");
        }

        Console.WriteLine("# rounds alternate reference, new (1 thread), new (MaxDegreeOfParallelism = 2); medians over the rounds;");
        Console.WriteLine("# speed-up = reference median / new median (wall); CPU = process CPU per call, all threads");
        Console.WriteLine("# B/char = bytes allocated by a cold call (pool emptied first) per code point of a + b:");
        Console.WriteLine("#          an upper bound on its peak working memory");
        Console.WriteLine();
        Console.WriteLine("| input | size/side | rounds | reference | new | speed-up | new, 2 threads | speed-up | CPU ref / new / new 2t | B/char ref / new | LCS length |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|");
    }

    public static PhaseRow[] Run(string kind, int size, string a, string b, ReferenceBuild? reference, int rounds)
    {
        var referenceTimes = new Samples();
        var single = new Samples();
        var dual = new Samples();
        var singlePhases = new PhaseSamples();
        var dualPhases = new PhaseSamples();
        var one = new LcsOptions();
        var two = new LcsOptions { MaxDegreeOfParallelism = 2 };

        // Cold calls: memory per code point, and the answers must agree.
        double referenceBytes = reference is null ? double.NaN : AllocatedPerChar(a, b, () => reference.Find(a, b));
        WorkArrays.Clear();
        LcsResult expected = null!;
        double newBytes = AllocatedPerChar(a, b, () => expected = LongestCommonSubstring.Find(a, b, one));
        if (reference is not null && reference.Find(a, b) != (expected.Length, expected.OffsetA, expected.OffsetB))
        {
            throw new InvalidOperationException($"{kind} {size}: the reference build and this build disagree.");
        }

        int warmUps = size <= 1_000 ? 500 : 1;
        for (int i = 0; i < warmUps; i++)
        {
            reference?.Find(a, b);
            LongestCommonSubstring.Find(a, b, one);
            LongestCommonSubstring.Find(a, b, two);
        }

        for (int round = 0; round < rounds; round++)
        {
            bool collect = size > 1_000;
            if (reference is not null)
            {
                referenceTimes.Time(collect, () => reference.Find(a, b));
            }

            single.Time(collect, () => singlePhases.Add(RunWithPhases(a, b, one, expected)));
            dual.Time(collect, () => dualPhases.Add(RunWithPhases(a, b, two, expected)));
        }

        Console.WriteLine(
            $"| {kind} | {Format.Size(size)} | {rounds} | {Format.Time(referenceTimes.MedianWall)} | {Format.Time(single.MedianWall)} | " +
            $"{Format.Ratio(referenceTimes.MedianWall / single.MedianWall)} | {Format.Time(dual.MedianWall)} | " +
            $"{Format.Ratio(referenceTimes.MedianWall / dual.MedianWall)} | " +
            $"{Format.Time(referenceTimes.MedianCpu)} / {Format.Time(single.MedianCpu)} / {Format.Time(dual.MedianCpu)} | " +
            $"{Format.Number(referenceBytes)} / {Format.Number(newBytes)} | {expected.Length} |");
        return [new PhaseRow(kind, size, 1, singlePhases), new PhaseRow(kind, size, 2, dualPhases)];
    }

    public static void PrintPhases(IEnumerable<PhaseRow> rows)
    {
        Console.WriteLine();
        Console.WriteLine("### Phases of this build (median wall / median process CPU per phase)");
        Console.WriteLine();
        Console.WriteLine("| input | size/side | threads | " + string.Join(" | ", PhaseNames) + " |");
        Console.WriteLine("|---|---:|---:|" + string.Concat(PhaseNames.Select(_ => "---:|")));
        foreach (PhaseRow row in rows)
        {
            var cells = PhaseNames.Select(name => $"{Format.Time(row.Samples.MedianWall(name))} / {Format.Time(row.Samples.MedianCpu(name))}");
            Console.WriteLine($"| {row.Kind} | {Format.Size(row.Size)} | {row.Threads} | " + string.Join(" | ", cells) + " |");
        }
    }

    private static PhaseTimes RunWithPhases(string a, string b, LcsOptions options, LcsResult expected)
    {
        var phases = new PhaseTimes();
        LcsResult result = LongestCommonSubstring.Find(a, b, options, progress: null, phases, CancellationToken.None);
        if (result != expected)
        {
            throw new InvalidOperationException($"MaxDegreeOfParallelism {options.MaxDegreeOfParallelism} gave {result}, one thread {expected}.");
        }

        return phases;
    }

    private static double AllocatedPerChar(string a, string b, Action call)
    {
        GC.Collect();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        call();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (double)allocated / (a.EnumerateRunes().Count() + b.EnumerateRunes().Count());
    }

    internal sealed record PhaseRow(string Kind, int Size, int Threads, PhaseSamples Samples);

    /// <summary>Wall and process CPU time of repeated calls.</summary>
    private sealed class Samples
    {
        private readonly List<double> _wall = [];
        private readonly List<double> _cpu = [];

        public double MedianWall => Format.Median(_wall);

        public double MedianCpu => Format.Median(_cpu);

        public void Time(bool collectFirst, Action call)
        {
            if (collectFirst)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
            long start = Stopwatch.GetTimestamp();
            call();
            _wall.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            _cpu.Add((Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds);
        }
    }
}

/// <summary>Per-phase times of repeated calls.</summary>
internal sealed class PhaseSamples
{
    private readonly Dictionary<string, (List<double> Wall, List<double> Cpu)> _byPhase = [];

    public void Add(PhaseTimes times)
    {
        foreach ((string name, TimeSpan wall, TimeSpan cpu) in times.Phases)
        {
            if (!_byPhase.TryGetValue(name, out var lists))
            {
                lists = ([], []);
                _byPhase[name] = lists;
            }

            lists.Wall.Add(wall.TotalSeconds);
            lists.Cpu.Add(cpu.TotalSeconds);
        }
    }

    public double MedianWall(string phase) => _byPhase.TryGetValue(phase, out var lists) ? Format.Median(lists.Wall) : double.NaN;

    public double MedianCpu(string phase) => _byPhase.TryGetValue(phase, out var lists) ? Format.Median(lists.Cpu) : double.NaN;
}
