using System.Diagnostics;
using CeleryKube.Protos.V1;
using CeleryKube.Worker.Execution;
using CeleryKube.Worker.State;
using Microsoft.Extensions.Logging;

namespace CeleryKube.Worker.Sink;

/// <summary>
/// Forwards a running attempt's progress to ResultSink at most every <see cref="Interval"/>, without
/// blocking the computation (one call in flight at a time), and turns a <c>stop</c> answer into
/// <see cref="StopRequested"/>.
/// </summary>
public sealed class ResultSinkProgress(ResultSinkClient sink, RunningTask running, string workerId, ILogger logger) : IJobProgress
{
    /// <summary>
    /// Minimum time between two progress reports. lcs-core already reports about every 250 ms; a
    /// slightly shorter throttle here keeps clock jitter from dropping every other report.
    /// </summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly CancellationTokenSource stop = new();
    private long lastSentAt = Stopwatch.GetTimestamp();
    private int sending;

    /// <inheritdoc />
    public CancellationToken StopRequested => stop.Token;

    /// <inheritdoc />
    public string StopReason { get; private set; } = "cancellation requested";

    /// <inheritdoc />
    public void Report(double value)
    {
        running.Progress = value;
        if (Stopwatch.GetElapsedTime(Interlocked.Read(ref lastSentAt)) < Interval) return;
        if (Interlocked.CompareExchange(ref sending, 1, 0) != 0) return;
        Interlocked.Exchange(ref lastSentAt, Stopwatch.GetTimestamp());
        _ = SendAsync(value);
    }

    private async Task SendAsync(double value)
    {
        try
        {
            var answer = await sink.ReportProgressAsync(new ReportProgressRequest
            {
                TaskId = running.TaskId,
                Attempt = running.Attempt,
                WorkerId = workerId,
                Progress = value,
            }, CancellationToken.None);
            if (answer.Stop && !stop.IsCancellationRequested)
            {
                StopReason = string.IsNullOrWhiteSpace(answer.Reason) ? "cancellation requested" : answer.Reason;
                logger.LogInformation("task {TaskId} attempt {Attempt}: stopping ({Reason})", running.TaskId, running.Attempt, StopReason);
                stop.Cancel();
            }
        }
        catch (Exception ex)
        {
            // Progress is advisory: the next report or the heartbeat renews the lease.
            logger.LogDebug("progress report for task {TaskId} failed: {Error}", running.TaskId, SinkRetry.Describe(ex));
        }
        finally
        {
            Volatile.Write(ref sending, 0);
        }
    }
}
