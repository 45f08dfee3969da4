using CeleryKube.Testing;
using Xunit.Abstractions;

// One drill at a time: it kills processes and wants the machine's attention.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace CeleryKube.Soak.Tests;

/// <summary>The short version of the soak drill (bench/CeleryKube.Bench.Soak runs the long one).</summary>
public sealed class SoakDrillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_minute_of_mixed_load_with_worker_broker_and_task_service_crashes_loses_and_duplicates_nothing()
    {
        var report = await new SoakDrill(new SoakOptions
        {
            Duration = TimeSpan.FromSeconds(60),
            // Several kills within the minute, as the long drill has several within its ten.
            WorkerKillInterval = TimeSpan.FromSeconds(12),
            SmallPerSecond = 10,
            Log = output.WriteLine,
        }).RunAsync();

        Assert.True(report.Accepted > 100, $"too little load to mean anything:\n{report}");
        Assert.True(report.WorkerKills >= 2, $"the drill killed too few workers:\n{report}");
        Assert.True(report.Lost == 0, $"accepted tasks were lost:\n{report}");
        Assert.True(report.Duplicated.Count == 0, $"tasks got two results or are inconsistent:\n{report}");
    }
}
