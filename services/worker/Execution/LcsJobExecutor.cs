using CeleryKube.Protos.V1;
using CoreAlgorithm = CeleryKube.Lcs.LcsAlgorithm;
using CoreResult = CeleryKube.Lcs.LcsResult;

namespace CeleryKube.Worker.Execution;

/// <summary>
/// Runs one LCS job under a hard time limit: on the thread pool, or on the caller's thread when it is
/// tiny (<see cref="RunsInline"/>). Never throws: every end is a <see cref="JobOutcome"/>.
/// </summary>
public static class LcsJobExecutor
{
    /// <summary>
    /// The most UTF-16 code units (both texts together) a job computed on the caller's thread may have.
    /// The suffix array and dynamic programming take microseconds on texts this short, far below any
    /// time limit, so handing them to the thread pool would cost more than the computation.
    /// </summary>
    public const int InlineMaxCodeUnits = 512;

    /// <summary>
    /// Computes the job. The outcome is <see cref="JobOutcome.Abandoned"/> when <paramref name="abandon"/>
    /// fires (shutdown wins, so the job is requeued rather than reported), <see cref="JobOutcome.Cancelled"/>
    /// when <paramref name="progress"/> asks to stop, and <see cref="JobOutcome.Failed"/> when the time
    /// limit passes or the algorithm throws. A tiny job's task is already complete on return.
    /// </summary>
    public static Task<JobOutcome> RunAsync(LcsJob job, TimeSpan timeLimit, IJobProgress progress, CancellationToken abandon, int coresPerJob = 1)
    {
        var options = new Lcs.LcsOptions { Algorithm = ToCore(job.Algorithm), MaxDegreeOfParallelism = coresPerJob };
        return RunsInline(job, options.Algorithm)
            ? Task.FromResult(RunInline(job, options, progress, abandon))
            : RunOnThreadPoolAsync(job, options, timeLimit, progress, abandon);
    }

    /// <summary>Brute force is cubic in the worst case, so only the other algorithms run inline.</summary>
    private static bool RunsInline(LcsJob job, CoreAlgorithm algorithm) =>
        algorithm != CoreAlgorithm.BruteForce && job.TextA.Length + job.TextB.Length <= InlineMaxCodeUnits;

    private static JobOutcome RunInline(LcsJob job, Lcs.LcsOptions options, IJobProgress progress, CancellationToken abandon)
    {
        if (abandon.IsCancellationRequested || progress.StopRequested.IsCancellationRequested) return Stopped(progress, abandon);
        try
        {
            return new JobOutcome.Succeeded(ToProto(Lcs.LongestCommonSubstring.Find(job.TextA, job.TextB, options, progress)));
        }
        catch (Exception ex)
        {
            return Failed(ex);
        }
    }

    private static async Task<JobOutcome> RunOnThreadPoolAsync(LcsJob job, Lcs.LcsOptions options, TimeSpan timeLimit, IJobProgress progress, CancellationToken abandon)
    {
        using var timeLimitSource = new CancellationTokenSource(timeLimit);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeLimitSource.Token, progress.StopRequested, abandon);
        try
        {
            var computation = Task.Run(() => Lcs.LongestCommonSubstring.Find(job.TextA, job.TextB, options, progress, linked.Token), linked.Token);
            // WaitAsync makes the limit hard at this level even if an algorithm were slow to observe the token.
            var result = await computation.WaitAsync(linked.Token);
            return new JobOutcome.Succeeded(ToProto(result));
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            return abandon.IsCancellationRequested || progress.StopRequested.IsCancellationRequested
                ? Stopped(progress, abandon)
                : new JobOutcome.Failed($"time limit of {timeLimit:c} exceeded");
        }
        catch (Exception ex)
        {
            return Failed(ex);
        }
    }

    /// <summary>Shutdown wins over a stop request, so the job is requeued rather than reported.</summary>
    private static JobOutcome Stopped(IJobProgress progress, CancellationToken abandon) =>
        abandon.IsCancellationRequested ? new JobOutcome.Abandoned() : new JobOutcome.Cancelled(progress.StopReason);

    private static JobOutcome.Failed Failed(Exception ex) => new($"{ex.GetType().Name}: {ex.Message}");

    /// <summary>Maps the wire algorithm to lcs-core's; unspecified means the default suffix array.</summary>
    public static CoreAlgorithm ToCore(LcsAlgorithm algorithm) => algorithm switch
    {
        LcsAlgorithm.DynamicProgramming => CoreAlgorithm.DynamicProgramming,
        LcsAlgorithm.BruteForce => CoreAlgorithm.BruteForce,
        _ => CoreAlgorithm.SuffixArray,
    };

    /// <summary>Maps lcs-core's result to the wire: code-point offsets, not UTF-16 ones.</summary>
    public static Protos.V1.LcsResult ToProto(CoreResult result) => new()
    {
        Length = result.Length,
        Substring = result.Substring,
        OffsetA = result.OffsetA,
        OffsetB = result.OffsetB,
    };
}
