using System.Diagnostics;
using CeleryKube.Protos.V1;
using CeleryKube.Worker.Execution;
using CeleryKube.Worker.State;
using Microsoft.Extensions.Logging;

namespace CeleryKube.Worker.Sink;

/// <summary>
/// Forwards a running attempt's progress to ResultSink at most every <see cref="Interval"/>, without
/// blocking the computation (one call in flight at a time), and turns a <c>stop</c> answer into
/// <see cref="StopRequested"/>. A run that started before its claim reports nothing until
/// <see cref="Attach"/> names the claimed attempt; <see cref="Stop"/> ends a run that may not go on.
/// </summary>
public sealed class ResultSinkProgress(ResultSinkClient sink, ILogger logger) : IJobProgress
{
    /// <summary>
    /// Minimum time between two progress reports. lcs-core already reports about every 250 ms; a
    /// slightly shorter throttle here keeps clock jitter from dropping every other report.
    /// </summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly CancellationTokenSource stop = new();
    private volatile RunningTask? running;
    private long lastSentAt = Stopwatch.GetTimestamp();
    private int sending;

    /// <inheritdoc />
    public CancellationToken StopRequested => stop.Token;

    /// <inheritdoc />
    public string StopReason { get; private set; } = "cancellation requested";

    /// <summary>The run is now <paramref name="attempt"/>: its progress goes to ResultSink from here on.</summary>
    public void Attach(RunningTask attempt) => running = attempt;

    /// <summary>Asks the run to stop, e.g. because the claim was refused.</summary>
    public void Stop(string reason)
    {
        if (stop.IsCancellationRequested) return;
        StopReason = reason;
        stop.Cancel();
    }

    /// <inheritdoc />
    public void Report(double value)
    {
        if (running is not { } attempt) return;
        attempt.Progress = value;
        if (Stopwatch.GetElapsedTime(Interlocked.Read(ref lastSentAt)) < Interval) return;
        if (Interlocked.CompareExchange(ref sending, 1, 0) != 0) return;
        Interlocked.Exchange(ref lastSentAt, Stopwatch.GetTimestamp());
        _ = SendAsync(attempt, value);
    }

    private async Task SendAsync(RunningTask attempt, double value)
    {
        try
        {
            var answer = await sink.ReportProgressAsync(new ReportProgressRequest
            {
                TaskId = attempt.TaskId,
                Attempt = attempt.Attempt,
                Progress = value,
                ClaimToken = attempt.ClaimToken,
            }, CancellationToken.None);
            if (answer.Stop && !stop.IsCancellationRequested)
            {
                logger.LogInformation("task {TaskId} attempt {Attempt}: stopping ({Reason})", attempt.TaskId, attempt.Attempt, answer.Reason);
                Stop(string.IsNullOrWhiteSpace(answer.Reason) ? "cancellation requested" : answer.Reason);
            }
        }
        catch (Exception ex)
        {
            // Progress is advisory: the next report or the heartbeat renews the lease.
            logger.LogDebug("progress report for task {TaskId} failed: {Error}", attempt.TaskId, SinkRetry.Describe(ex));
        }
        finally
        {
            Volatile.Write(ref sending, 0);
        }
    }
}
