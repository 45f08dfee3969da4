using System.Diagnostics;
using System.Globalization;
using CeleryKube.Bench.Lcs;
using CeleryKube.Lcs;

// Usage: dotnet run -c Release --project bench/CeleryKube.Bench.Lcs [-- --quick]
//   --quick   sizes up to 1 MB only and fewer runs (a smoke run in seconds).
bool quick = args.Contains("--quick");
int[] sizes = quick ? [1_000, 10_000, 100_000, 1_000_000] : [1_000, 10_000, 100_000, 1_000_000, 10_000_000];

// The O(n*m) algorithms run only where n*m stays under this (about 10 s or less of DP here); they are also
// cancelled after QuadraticTimeout as a guard.
const long QuadraticCellLimit = 200_000_000;
var quadraticTimeout = TimeSpan.FromSeconds(10);

ProseCorpus corpus = Inputs.LoadProseCorpus();
Console.WriteLine($"# LCS core benchmark, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"# prose pools (distinct licence files, alternating): a {corpus.PoolA.Length:N0} chars, b {corpus.PoolB.Length:N0} chars; repeated past that");
Console.WriteLine("# sizes are UTF-16 chars per side (ASCII: bytes)");
Console.WriteLine("# memory = GC.GetAllocatedBytesForCurrentThread delta over one call (all managed allocations;");
Console.WriteLine("#          an upper bound on peak extra managed memory), per char of a + b");
Console.WriteLine("# first call = the first call on that input (cold memory; the very first row also pays JIT); min/median over the runs after warm-up");
Console.WriteLine("# median CPU = process CPU time per call (all threads, GC included): less inflated than wall time on a busy machine");
Console.WriteLine();
Console.WriteLine("| input | size/side | algorithm | runs | first call | min | median | median CPU | allocated | bytes/char | LCS length |");
Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");

foreach (string kind in new[] { "dna", "prose" })
{
    foreach (int size in sizes)
    {
        (string a, string b) = kind == "dna" ? Inputs.Dna(size) : Inputs.Prose(corpus, size);
        foreach (LcsAlgorithm algorithm in Enum.GetValues<LcsAlgorithm>())
        {
            bool quadratic = algorithm != LcsAlgorithm.SuffixArray;
            if (quadratic && (long)size * size > QuadraticCellLimit)
            {
                continue;
            }

            int runs = RunsFor(size, quick);
            var row = Measure(a, b, algorithm, runs, quadratic ? quadraticTimeout : Timeout.InfiniteTimeSpan);
            Console.WriteLine(row.Format(kind, size, algorithm));
        }
    }
}

static int RunsFor(int size, bool quick) => size switch
{
    <= 1_000 => quick ? 200 : 2_000,
    <= 10_000 => quick ? 20 : 50,
    <= 100_000 => quick ? 5 : 10,
    <= 1_000_000 => quick ? 3 : 5,
    _ => 3,
};

static Row Measure(string a, string b, LcsAlgorithm algorithm, int runs, TimeSpan timeout)
{
    // The first call is timed on its own: on this VM first-touch page faults on fresh memory cost about
    // 3.5 ms per MB, which later calls mostly avoid because the GC reuses the memory it already has.
    // Small inputs get extra warm-up calls before the timed runs.
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
    using var process = Process.GetCurrentProcess();
    long allocated = 0;
    int length = 0;
    for (int i = 0; i < runs; i++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = GC.GetAllocatedBytesForCurrentThread();
        process.Refresh();
        TimeSpan cpuBefore = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        LcsResult result = Run(a, b, algorithm, timeout);
        watch.Stop();
        process.Refresh();
        cpuTimes.Add((process.TotalProcessorTime - cpuBefore).TotalSeconds);
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        times.Add(watch.Elapsed.TotalSeconds);
        length = result.Length;
    }

    times.Sort();
    cpuTimes.Sort();
    return new Row(runs, firstSeconds, times[0], times[times.Count / 2], cpuTimes[cpuTimes.Count / 2], allocated, (double)allocated / (a.Length + b.Length), length);
}

static LcsResult Run(string a, string b, LcsAlgorithm algorithm, TimeSpan timeout)
{
    using var cancellation = new CancellationTokenSource(timeout);
    return LongestCommonSubstring.Find(a, b, algorithm, progress: null, cancellation.Token);
}

internal sealed record Row(int Runs, double FirstSeconds, double MinSeconds, double MedianSeconds, double MedianCpuSeconds, long AllocatedBytes, double BytesPerChar, int LcsLength)
{
    public static Row TimedOut(TimeSpan timeout) => new(0, timeout.TotalSeconds, timeout.TotalSeconds, double.NaN, double.NaN, 0, double.NaN, -1);

    public string Format(string kind, int size, LcsAlgorithm algorithm) =>
        Runs == 0
            ? $"| {kind} | {Size(size)} | {algorithm} | 0 | > {Time(FirstSeconds)} (cancelled) | | | | | | |"
            : $"| {kind} | {Size(size)} | {algorithm} | {Runs} | {Time(FirstSeconds)} | {Time(MinSeconds)} | {Time(MedianSeconds)} | {Time(MedianCpuSeconds)} | {Bytes(AllocatedBytes)} | {BytesPerChar.ToString("F1", CultureInfo.InvariantCulture)} | {LcsLength} |";

    private static string Size(int chars) => chars >= 1_000_000 ? $"{chars / 1_000_000} M" : $"{chars / 1_000} K";

    private static string Time(double seconds) => seconds switch
    {
        < 1e-3 => $"{seconds * 1e6:F1} µs",
        < 1 => $"{seconds * 1e3:F1} ms",
        _ => $"{seconds:F2} s",
    };

    private static string Bytes(long bytes) => bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):F1} MiB" : $"{bytes / 1024.0:F1} KiB";
}
