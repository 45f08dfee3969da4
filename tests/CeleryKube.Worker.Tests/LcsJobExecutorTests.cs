using CeleryKube.Protos.V1;
using CeleryKube.Worker.Execution;

namespace CeleryKube.Worker.Tests;

/// <summary>The executor's outcomes: result, time limit, stop on request, shutdown.</summary>
public sealed class LcsJobExecutorTests
{
    private const string Smile = "\U0001F600";

    /// <summary>Texts that keep the brute force busy for many seconds.</summary>
    private static LcsJob SlowJob()
    {
        var random = new Random(7);
        string Text() => string.Concat(Enumerable.Range(0, 40_000).Select(_ => random.Next(2) == 0 ? 'a' : 'b'));
        return new LcsJob { TaskId = "t-slow", TextA = Text(), TextB = Text(), Algorithm = LcsAlgorithm.BruteForce };
    }

    [Theory]
    [InlineData(LcsAlgorithm.SuffixArray)]
    [InlineData(LcsAlgorithm.DynamicProgramming)]
    [InlineData(LcsAlgorithm.BruteForce)]
    [InlineData(LcsAlgorithm.Unspecified)]
    public async Task Success_maps_code_point_offsets_not_utf16_ones(LcsAlgorithm algorithm)
    {
        // The match starts after one emoji in a (code point 1, UTF-16 index 2) and after "x" in b.
        var job = new LcsJob { TaskId = "t1", TextA = $"{Smile}{Smile}hello!", TextB = $"x{Smile}hello?", Algorithm = algorithm };
        var outcome = await LcsJobExecutor.RunAsync(job, TimeSpan.FromMinutes(1), new FakeProgress(), CancellationToken.None);
        var result = Assert.IsType<JobOutcome.Succeeded>(outcome).Result;
        Assert.Equal(6, result.Length);
        Assert.Equal($"{Smile}hello", result.Substring);
        Assert.Equal(1, result.OffsetA);
        Assert.Equal(1, result.OffsetB);
    }

    [Fact]
    public async Task No_common_character_gives_length_zero()
    {
        var job = new LcsJob { TaskId = "t2", TextA = "abc", TextB = "xyz" };
        var result = Assert.IsType<JobOutcome.Succeeded>(await LcsJobExecutor.RunAsync(job, TimeSpan.FromMinutes(1), new FakeProgress(), CancellationToken.None)).Result;
        Assert.Equal(new Protos.V1.LcsResult { Length = 0, Substring = "", OffsetA = 0, OffsetB = 0 }, result);
    }

    [Fact]
    public async Task Time_limit_fails_the_job_with_the_limit_in_the_reason()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outcome = await LcsJobExecutor.RunAsync(SlowJob(), TimeSpan.FromMilliseconds(300), new FakeProgress(), CancellationToken.None);
        Assert.Equal("time limit of 00:00:00.3000000 exceeded", Assert.IsType<JobOutcome.Failed>(outcome).Reason);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Stop_answer_to_a_progress_report_cancels_the_run()
    {
        var progress = new FakeProgress { StopOnFirstReport = "cancellation requested by a user" };
        var outcome = await LcsJobExecutor.RunAsync(SlowJob(), TimeSpan.FromMinutes(1), progress, CancellationToken.None);
        Assert.Equal("cancellation requested by a user", Assert.IsType<JobOutcome.Cancelled>(outcome).Reason);
        Assert.True(progress.Reports > 0);
    }

    [Fact]
    public async Task Shutdown_abandons_the_run_so_it_is_requeued_not_reported()
    {
        using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var outcome = await LcsJobExecutor.RunAsync(SlowJob(), TimeSpan.FromMinutes(1), new FakeProgress(), shutdown.Token);
        Assert.IsType<JobOutcome.Abandoned>(outcome);
    }

    /// <summary>Both texts together hold exactly <see cref="LcsJobExecutor.InlineMaxCodeUnits"/>; "needle" is their only common substring.</summary>
    private static LcsJob TinyJob(LcsAlgorithm algorithm = LcsAlgorithm.SuffixArray)
    {
        var job = new LcsJob
        {
            TaskId = "t-tiny",
            TextA = new string('x', 200) + "needle" + new string('y', 50),
            TextB = new string('z', 100) + "needle" + new string('w', 150),
            Algorithm = algorithm,
        };
        Assert.Equal(LcsJobExecutor.InlineMaxCodeUnits, job.TextA.Length + job.TextB.Length);
        return job;
    }

    [Theory]
    [InlineData(LcsAlgorithm.SuffixArray)]
    [InlineData(LcsAlgorithm.DynamicProgramming)]
    public async Task Tiny_job_is_computed_before_RunAsync_returns(LcsAlgorithm algorithm)
    {
        var run = LcsJobExecutor.RunAsync(TinyJob(algorithm), TimeSpan.FromMinutes(1), new FakeProgress(), CancellationToken.None);
        Assert.True(run.IsCompletedSuccessfully, "a tiny job should not wait for a thread-pool thread");
        var result = Assert.IsType<JobOutcome.Succeeded>(await run).Result;
        Assert.Equal(new Protos.V1.LcsResult { Length = 6, Substring = "needle", OffsetA = 200, OffsetB = 100 }, result);
    }

    [Fact]
    public async Task Tiny_job_during_shutdown_is_abandoned_not_computed()
    {
        using var shutdown = new CancellationTokenSource();
        shutdown.Cancel();
        Assert.IsType<JobOutcome.Abandoned>(await LcsJobExecutor.RunAsync(TinyJob(), TimeSpan.FromMinutes(1), new FakeProgress(), shutdown.Token));
    }

    [Fact]
    public async Task Tiny_job_already_asked_to_stop_is_cancelled_with_the_reason()
    {
        var progress = new FakeProgress { StopOnFirstReport = "cancellation requested by a user" };
        progress.Report(0);
        var outcome = await LcsJobExecutor.RunAsync(TinyJob(), TimeSpan.FromMinutes(1), progress, CancellationToken.None);
        Assert.Equal("cancellation requested by a user", Assert.IsType<JobOutcome.Cancelled>(outcome).Reason);
    }

    [Fact]
    public void Wire_algorithms_map_to_lcs_core()
    {
        Assert.Equal(Lcs.LcsAlgorithm.SuffixArray, LcsJobExecutor.ToCore(LcsAlgorithm.SuffixArray));
        Assert.Equal(Lcs.LcsAlgorithm.DynamicProgramming, LcsJobExecutor.ToCore(LcsAlgorithm.DynamicProgramming));
        Assert.Equal(Lcs.LcsAlgorithm.BruteForce, LcsJobExecutor.ToCore(LcsAlgorithm.BruteForce));
        Assert.Equal(Lcs.LcsAlgorithm.SuffixArray, LcsJobExecutor.ToCore(LcsAlgorithm.Unspecified));
    }

    /// <summary>Records reports; optionally asks to stop at the first one, as ResultSink does after CancelTask.</summary>
    private sealed class FakeProgress : IJobProgress
    {
        private readonly CancellationTokenSource stop = new();
        private int reports;

        public string? StopOnFirstReport { get; init; }

        public int Reports => Volatile.Read(ref reports);

        public CancellationToken StopRequested => stop.Token;

        public string StopReason => StopOnFirstReport ?? "";

        public void Report(double value)
        {
            Interlocked.Increment(ref reports);
            if (StopOnFirstReport is not null) stop.Cancel();
        }
    }
}
