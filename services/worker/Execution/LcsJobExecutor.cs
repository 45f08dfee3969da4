using CeleryKube.Protos.V1;
using CoreAlgorithm = CeleryKube.Lcs.LcsAlgorithm;
using CoreResult = CeleryKube.Lcs.LcsResult;

namespace CeleryKube.Worker.Execution;

/// <summary>Runs one LCS job on the thread pool under a hard time limit. Never throws: every end is a <see cref="JobOutcome"/>.</summary>
public static class LcsJobExecutor
{
    /// <summary>
    /// Computes the job. The outcome is <see cref="JobOutcome.Abandoned"/> when <paramref name="abandon"/>
    /// fires (shutdown wins, so the job is requeued rather than reported), <see cref="JobOutcome.Cancelled"/>
    /// when <paramref name="progress"/> asks to stop, and <see cref="JobOutcome.Failed"/> when the time
    /// limit passes or the algorithm throws.
    /// </summary>
    public static async Task<JobOutcome> RunAsync(LcsJob job, TimeSpan timeLimit, IJobProgress progress, CancellationToken abandon, int coresPerJob = 1)
    {
        using var timeLimitSource = new CancellationTokenSource(timeLimit);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeLimitSource.Token, progress.StopRequested, abandon);
        var options = new Lcs.LcsOptions { Algorithm = ToCore(job.Algorithm), MaxDegreeOfParallelism = coresPerJob };
        try
        {
            var computation = Task.Run(() => Lcs.LongestCommonSubstring.Find(job.TextA, job.TextB, options, progress, linked.Token), linked.Token);
            // WaitAsync makes the limit hard at this level even if an algorithm were slow to observe the token.
            var result = await computation.WaitAsync(linked.Token);
            return new JobOutcome.Succeeded(ToProto(result));
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            if (abandon.IsCancellationRequested) return new JobOutcome.Abandoned();
            if (progress.StopRequested.IsCancellationRequested) return new JobOutcome.Cancelled(progress.StopReason);
            return new JobOutcome.Failed($"time limit of {timeLimit:c} exceeded");
        }
        catch (Exception ex)
        {
            return new JobOutcome.Failed($"{ex.GetType().Name}: {ex.Message}");
        }
    }

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
