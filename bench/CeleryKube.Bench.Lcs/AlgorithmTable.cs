using System.Diagnostics;
using CeleryKube.Lcs;

namespace CeleryKube.Bench.Lcs;

/// <summary>Every algorithm of this build at every size (the quadratic ones only where they finish in seconds).</summary>
internal static class AlgorithmTable
{
    // The O(n*m) algorithms run only where n*m stays under this (about 10 s or less of DP here); they are also
    // cancelled after QuadraticTimeout as a guard.
    private const long QuadraticCellLimit = 200_000_000;
    private static readonly TimeSpan QuadraticTimeout = TimeSpan.FromSeconds(10);

    public static void PrintHeader()
    {
        Console.WriteLine("## Every algorithm, this build");
        Console.WriteLine();
        Console.WriteLine("# memory = bytes allocated by all threads over one call (working arrays reused from the pool count");
        Console.WriteLine("#          once, on the first call: see the side-by-side table for the cold figure), per char of a + b");
        Console.WriteLine("# first call = the first call on that input (the very first row also pays JIT); min/median over the runs after warm-up");
        Console.WriteLine("# median CPU = process CPU time per call (all threads, GC included): less inflated than wall time on a busy machine");
        Console.WriteLine();
        Console.WriteLine("| input | size/side | algorithm | runs | first call | min | median | median CPU | allocated | bytes/char | LCS length |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    }

    public static void Run(string kind, int size, string a, string b, bool quick)
    {
        foreach (LcsAlgorithm algorithm in Enum.GetValues<LcsAlgorithm>())
        {
            bool quadratic = algorithm != LcsAlgorithm.SuffixArray;
            if (quadratic && (long)size * size > QuadraticCellLimit)
            {
                continue;
            }

            var row = Measure(a, b, algorithm, RunsFor(size, quick), quadratic ? QuadraticTimeout : Timeout.InfiniteTimeSpan);
            Console.WriteLine(row.Format(kind, size, algorithm));
        }
    }

    private static int RunsFor(int size, bool quick) => size switch
    {
        <= 1_000 => quick ? 200 : 2_000,
        <= 10_000 => quick ? 20 : 50,
        <= 100_000 => quick ? 5 : 10,
        <= 1_000_000 => quick ? 3 : 5,
        _ => 3,
    };

    private static Row Measure(string a, string b, LcsAlgorithm algorithm, int runs, TimeSpan timeout)
    {
        double firstSeconds;
        try
        {
            GC.Collect();
            var first = Stopwatch.StartNew();
            Run(a, b, algorithm, timeout);
            firstSeconds = first.Elapsed.TotalSeconds;
            for (int i = 1; i < (a.Length <= 1_000 ? 500 : 1); i++)
            {
                Run(a, b, algorithm, timeout);
            }
        }
        catch (OperationCanceledException)
        {
            return Row.TimedOut(timeout);
        }

        var times = new List<double>();
        var cpuTimes = new List<double>();
        long allocated = 0;
        int length = 0;
        for (int i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
            var watch = Stopwatch.StartNew();
            LcsResult result = Run(a, b, algorithm, timeout);
            watch.Stop();
            cpuTimes.Add((Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds);
            allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            times.Add(watch.Elapsed.TotalSeconds);
            length = result.Length;
        }

        return new Row(runs, firstSeconds, times.Min(), Format.Median(times), Format.Median(cpuTimes), allocated, (double)allocated / (a.Length + b.Length), length);
    }

    private static LcsResult Run(string a, string b, LcsAlgorithm algorithm, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        return LongestCommonSubstring.Find(a, b, algorithm, progress: null, cancellation.Token);
    }

    private sealed record Row(int Runs, double FirstSeconds, double MinSeconds, double MedianSeconds, double MedianCpuSeconds, long AllocatedBytes, double BytesPerChar, int LcsLength)
    {
        public static Row TimedOut(TimeSpan timeout) => new(0, timeout.TotalSeconds, timeout.TotalSeconds, double.NaN, double.NaN, 0, double.NaN, -1);

        public string Format(string kind, int size, LcsAlgorithm algorithm) =>
            Runs == 0
                ? $"| {kind} | {Lcs.Format.Size(size)} | {algorithm} | 0 | > {Lcs.Format.Time(FirstSeconds)} (cancelled) | | | | | | |"
                : $"| {kind} | {Lcs.Format.Size(size)} | {algorithm} | {Runs} | {Lcs.Format.Time(FirstSeconds)} | {Lcs.Format.Time(MinSeconds)} | " +
                  $"{Lcs.Format.Time(MedianSeconds)} | {Lcs.Format.Time(MedianCpuSeconds)} | {Lcs.Format.Bytes(AllocatedBytes)} | {Lcs.Format.Number(BytesPerChar)} | {LcsLength} |";
    }
}
