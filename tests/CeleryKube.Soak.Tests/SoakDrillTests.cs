using CeleryKube.Testing;
using Xunit.Abstractions;

// One drill at a time: it kills processes and wants the machine's attention.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace CeleryKube.Soak.Tests;

/// <summary>The short version of the soak drill (bench/CeleryKube.Bench.Soak runs the long one).</summary>
public sealed class SoakDrillTests(ITestOutputHelper output)
{
    /// <summary>Several kills within the minute, as the long drill has several within its ten.</summary>
    internal static SoakOptions AMinute(ITestOutputHelper output) => new()
    {
        Duration = TimeSpan.FromSeconds(60),
        WorkerKillInterval = TimeSpan.FromSeconds(12),
        SmallPerSecond = 10,
        Log = output.WriteLine,
    };

    internal static void AssertNothingLostOrDuplicated(SoakReport report)
    {
        Assert.True(report.Accepted > 100, $"too little load to mean anything:\n{report}");
        Assert.True(report.WorkerKills >= 2, $"the drill killed too few workers:\n{report}");
        Assert.True(report.Lost == 0, $"accepted tasks were lost:\n{report}");
        Assert.True(report.Duplicated.Count == 0, $"tasks got two results or are inconsistent:\n{report}");
    }

    [Fact]
    public async Task A_minute_of_mixed_load_with_worker_broker_and_task_service_crashes_loses_and_duplicates_nothing() =>
        AssertNothingLostOrDuplicated(await new SoakDrill(AMinute(output)).RunAsync());
}

/// <summary>The scale-out soak: two task-service replicas on PostgreSQL and a three-node RabbitMQ cluster.</summary>
[CollectionDefinition(Name)]
public sealed class ScaleOutServers : ICollectionFixture<RabbitMqClusterFixture>, ICollectionFixture<PostgresServerFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "scale-out servers";
}

/// <summary>The soak drill in scale-out mode.</summary>
[Collection(ScaleOutServers.Name)]
public sealed class ScaleOutSoakDrillTests(RabbitMqClusterFixture cluster, PostgresDatabase<ScaleOutSoakDrillTests> database, ITestOutputHelper output)
    : IClassFixture<PostgresDatabase<ScaleOutSoakDrillTests>>
{
    [Fact]
    public async Task A_minute_of_mixed_load_on_PostgreSQL_and_a_broker_cluster_with_a_replica_kill_and_a_node_stop_loses_and_duplicates_nothing() =>
        SoakDrillTests.AssertNothingLostOrDuplicated(await new SoakDrill(SoakDrillTests.AMinute(output) with
        {
            Cluster = cluster.Cluster,
            Postgres = database.ConnectionString,
        }).RunAsync());
}
