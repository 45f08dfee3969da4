using System.Diagnostics;

namespace CeleryKube.Testing;

/// <summary>Latency samples in milliseconds and their percentiles.</summary>
public sealed class Latencies
{
    private readonly List<double> samples = [];

    /// <summary>Number of samples.</summary>
    public int Count => samples.Count;

    /// <summary>Adds the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void AddSince(long startTimestamp, long endTimestamp) =>
        samples.Add(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMilliseconds);

    /// <summary>The <paramref name="percent"/>-th percentile (nearest rank), or NaN without samples.</summary>
    public double Percentile(double percent)
    {
        if (samples.Count == 0) return double.NaN;
        var sorted = samples.Order().ToList();
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
