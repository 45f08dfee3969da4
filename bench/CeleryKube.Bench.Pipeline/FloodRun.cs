using CeleryKube.Testing;

namespace CeleryKube.Bench.Pipeline;

/// <summary>
/// Issue 11 §5's flood (<see cref="Flood"/>, which the process test in tests/CeleryKube.Soak.Tests
/// runs too) as benchmark rows. The issue's speed mark, submit p99 under 1 s, is judged here,
/// never in a timed test.
/// </summary>
public static class FloodRun
{
    /// <summary>The issue's mark for SubmitLcs under the flood.</summary>
    public const double SubmitP99MarkMs = 1000;

    /// <summary>What one flood run measured.</summary>
    public sealed record Result(string Variant, double DoneSeconds, double SubmitP50, double SubmitP99, double StatusP50, double StatusP99,
        double StatusMax, int StatusCalls, double TaskServiceCpuSeconds, double TaskServiceRssMiB, int WatchEvents, int FailedStreams);

    /// <summary>Floods a private stack of the services under <paramref name="servicesRoot"/> (null: this checkout).</summary>
    public static async Task<Result> RunAsync(string variant, string? servicesRoot, TimeSpan timeout)
    {
        Environment.SetEnvironmentVariable(RepoPaths.ServicesRootVariable, servicesRoot);
        try
        {
            var report = await new Flood(new FloodOptions { Deadline = timeout, Request = PipelineRuns.SmallRequest }).RunAsync();
            if (report.AllSucceededAfter is not { } done) throw new TimeoutException($"{variant}: the tasks did not finish within {timeout}\n{report}");
            return new Result(variant, done.TotalSeconds, report.Submits.Percentile(50), report.Submits.Percentile(99), report.StatusCalls.Percentile(50),
                report.StatusCalls.Percentile(99), report.StatusCalls.Percentile(100), report.StatusCalls.Count, report.TaskServiceCpuSeconds,
                report.TaskServiceRssMiB, report.Streams.Sum(s => s.Events), report.FailedStreams.Count());
        }
        finally
        {
            Environment.SetEnvironmentVariable(RepoPaths.ServicesRootVariable, null);
        }
    }

    /// <summary>The runs as a Markdown table, with whether each met the issue's submit mark.</summary>
    public static string Table(IEnumerable<Result> results) =>
        "| variant | all done (s) | submit p50 (ms) | submit p99 (ms) | p99 under 1 s | status(86400) p50 (ms) | p99 (ms) | max (ms) | status calls | task-service CPU (s) | task-service RSS (MiB) | stream events | failed streams |\n" +
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
        string.Concat(results.Select(r =>
            $"| {r.Variant} | {r.DoneSeconds:0.0} | {r.SubmitP50:0} | {r.SubmitP99:0} | {(r.SubmitP99 < SubmitP99MarkMs ? "yes" : "**no**")} | {r.StatusP50:0} | {r.StatusP99:0} | {r.StatusMax:0} | {r.StatusCalls} | {r.TaskServiceCpuSeconds:0.0} | {r.TaskServiceRssMiB:0} | {r.WatchEvents:N0} | {r.FailedStreams} |\n"));
}
