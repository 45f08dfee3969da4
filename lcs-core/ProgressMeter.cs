using System.Diagnostics;

namespace CeleryKube.Lcs;

/// <summary>
/// Cancellation and throttled, monotonic progress for the long loops. Loops call <see cref="Poll()"/> every few
/// thousand iterations; it only reads the clock there, so the hot loops stay cheap.
/// </summary>
internal sealed class ProgressMeter
{
    /// <summary>Reports are at most this far apart on long runs; cancellation is observed within it too.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private static readonly long IntervalTicks = (long)(Interval.TotalSeconds * Stopwatch.Frequency);

    private readonly IProgress<double>? _progress;
    private readonly CancellationToken _cancellationToken;
    private long _nextReportAt;
    private double _current;
    private double _lastReported = -1;

    public ProgressMeter(IProgress<double>? progress, CancellationToken cancellationToken)
    {
        _progress = progress;
        _cancellationToken = cancellationToken;
        _nextReportAt = Stopwatch.GetTimestamp() + IntervalTicks;
    }

    /// <summary>Sets the fraction done (0..1) that the next throttled report will carry; never goes backwards.</summary>
    public void Set(double fraction)
    {
        _current = Math.Clamp(Math.Max(_current, fraction), 0, 1);
        Poll();
    }

    /// <summary>Sets the fraction as <paramref name="done"/>/<paramref name="total"/> of the range [start, end].</summary>
    public void Set(double start, double end, long done, long total) =>
        Set(total <= 0 ? end : start + ((end - start) * done / total));

    /// <summary>Throws if cancelled; reports progress if the interval has passed since the last report.</summary>
    public void Poll()
    {
        _cancellationToken.ThrowIfCancellationRequested();
        if (_progress is null)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        if (now >= _nextReportAt)
        {
            _nextReportAt = now + IntervalTicks;
            ReportIfAdvanced();
        }
    }

    /// <summary>
    /// <see cref="Poll()"/> on the thread that owns the meter; on a helper thread of a parallel pass only the
    /// cancellation check, because the meter itself is not thread-safe.
    /// </summary>
    public void Poll(bool onOwnerThread)
    {
        if (onOwnerThread)
        {
            Poll();
        }
        else
        {
            _cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Final report of 1.0, sent regardless of the throttle so callers see completion.</summary>
    public void Complete()
    {
        _current = 1;
        ReportIfAdvanced();
    }

    private void ReportIfAdvanced()
    {
        if (_progress is not null && _current > _lastReported)
        {
            _lastReported = _current;
            _progress.Report(_current);
        }
    }
}
