using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace CeleryKube.Frontend.Tests;

public sealed class ThroughputChartTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 14, 0, 5, TimeSpan.Zero);

    [Fact]
    public void Puts_each_bucket_at_its_time_and_sums_per_queue()
    {
        var buckets = new[]
        {
            Bucket(Now.AddSeconds(-5), TaskQueue.Small, succeeded: 3, failed: 1), // the newest window
            Bucket(Now.AddSeconds(-65), TaskQueue.Large, succeeded: 2, failed: 0),
            Bucket(Now.AddMinutes(-30), TaskQueue.Small, succeeded: 99, failed: 0), // outside the window
        };
        var chart = new ThroughputChart(buckets, Now, TimeSpan.FromMinutes(10));

        Assert.Equal(4, chart.Max);
        var small = chart.Lines.Single(l => l.Queue == TaskQueue.Small);
        var large = chart.Lines.Single(l => l.Queue == TaskQueue.Large);
        Assert.Equal(4, small.Total);
        Assert.Equal(2, large.Total);
        Assert.Equal(60, small.Points.Split(' ').Length);
        // The newest point of the small line is at the right edge and at the top of the scale.
        Assert.EndsWith($"{ThroughputChart.F(ThroughputChart.Width - ThroughputChart.Right)},{ThroughputChart.F(ThroughputChart.Top)}", small.Points);
    }

    [Fact]
    public void Ticks_have_round_labels()
    {
        var chart = new ThroughputChart([Bucket(Now, TaskQueue.Small, succeeded: 13, failed: 0)], Now, TimeSpan.FromMinutes(1));
        Assert.Equal(["0", "5", "10", "15", "20"], chart.Ticks.Select(t => t.Label));
    }

    private static ThroughputBucket Bucket(DateTimeOffset start, TaskQueue queue, int succeeded, int failed) => new()
    {
        StartTime = Timestamp.FromDateTimeOffset(start),
        Queue = queue,
        Succeeded = succeeded,
        Failed = failed,
    };
}
