using System.Diagnostics;

namespace CeleryKube.Lcs.Tests;

/// <summary>
/// Every algorithm observes cancellation and reports throttled, monotonic progress. Deadlines are generous
/// (several progress intervals) so a busy 2-core CI machine does not make them flaky.
/// </summary>
public sealed class CancellationAndProgressTests
{
    private static readonly TimeSpan GenerousStopDeadline = TimeSpan.FromSeconds(5);

    public static TheoryData<LcsAlgorithm> Algorithms => new(Enum.GetValues<LcsAlgorithm>());

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void PreCancelledTokenThrowsBeforeAnyWork(LcsAlgorithm algorithm)
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        (string a, string b) = LongInputFor(algorithm);

        var watch = Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => LongestCommonSubstring.Find(a, b, algorithm, null, cancellation.Token));
        Assert.True(watch.Elapsed < GenerousStopDeadline, $"took {watch.Elapsed}");
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void MidRunCancellationStopsWithinAFewProgressIntervals(LcsAlgorithm algorithm)
    {
        (string a, string b) = LongInputFor(algorithm);
        using var cancellation = new CancellationTokenSource();
        // Cancelled from the run's own first progress report, so the token surely fires while the
        // run is going: a timer can fire late on a loaded machine, after a fast run has finished.
        var progress = new CancelOnFirstReport(cancellation);

        Assert.ThrowsAny<OperationCanceledException>(() => LongestCommonSubstring.Find(a, b, algorithm, progress, cancellation.Token));
        Assert.NotNull(progress.CancelledAt);
        var afterCancel = progress.Watch.Elapsed - progress.CancelledAt.Value;
        Assert.True(afterCancel < GenerousStopDeadline, $"{algorithm} stopped {afterCancel} after cancellation");
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void ProgressIsReportedMonotonicAndEndsAtOne(LcsAlgorithm algorithm)
    {
        (string a, string b) = AboutOneSecondInputFor(algorithm);
        var progress = new RecordingProgress();

        LongestCommonSubstring.Find(a, b, algorithm, progress);

        var reports = progress.Reports;
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.InRange(r.Fraction, 0.0, 1.0));
        for (int i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].Fraction >= reports[i - 1].Fraction, $"progress went back: {reports[i - 1].Fraction} then {reports[i].Fraction}");
        }

        Assert.Equal(1.0, reports[^1].Fraction);

        // The run lasts longer than one interval, so there is at least one report before the final one,
        // and reports before the final one are throttled to about one per 250 ms.
        Assert.True(reports.Count >= 2, $"{algorithm}: only {reports.Count} report(s)");
        for (int i = 1; i < reports.Count - 1; i++)
        {
            Assert.True(reports[i].At - reports[i - 1].At >= TimeSpan.FromMilliseconds(200), "reports closer than the throttle interval");
        }
    }

    /// <summary>Inputs that take far longer than the cancellation delay.</summary>
    private static (string A, string B) LongInputFor(LcsAlgorithm algorithm) => algorithm switch
    {
        LcsAlgorithm.SuffixArray => RandomDna(5_000_000),
        LcsAlgorithm.DynamicProgramming => RandomDna(300_000),
        _ => (new string('a', 100_000), new string('a', 100_000)),
    };

    /// <summary>Inputs that take roughly a second or more on a 2-core machine, so several reports are due.</summary>
    private static (string A, string B) AboutOneSecondInputFor(LcsAlgorithm algorithm) => algorithm switch
    {
        LcsAlgorithm.SuffixArray => RandomDna(6_000_000),
        LcsAlgorithm.DynamicProgramming => RandomDna(40_000),
        _ => RandomDna(20_000),
    };

    private static (string A, string B) RandomDna(int size)
    {
        var random = new Random(size);
        return (TextGenerator.FromAlphabet(random, "ACGT", size), TextGenerator.FromAlphabet(random, "ACGT", size));
    }

    private sealed class RecordingProgress : IProgress<double>
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private readonly List<(double Fraction, TimeSpan At)> _reports = [];

        public List<(double Fraction, TimeSpan At)> Reports
        {
            get
            {
                lock (_reports)
                {
                    return [.. _reports];
                }
            }
        }

        public void Report(double value)
        {
            lock (_reports)
            {
                _reports.Add((value, _watch.Elapsed));
            }
        }
    }

    private sealed class CancelOnFirstReport(CancellationTokenSource cancellation) : IProgress<double>
    {
        public Stopwatch Watch { get; } = Stopwatch.StartNew();

        public TimeSpan? CancelledAt { get; private set; }

        public void Report(double value)
        {
            if (CancelledAt is not null) return;
            CancelledAt = Watch.Elapsed;
            cancellation.Cancel();
        }
    }
}
