using System.Diagnostics;
using System.Text;
using CeleryKube.Messaging;
using CeleryKube.Testing;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace CeleryKube.ScaleOut.Tests;

/// <summary>The three-node RabbitMQ cluster fixture, and a client on <c>RabbitMq__Endpoints</c> across a node stop.</summary>
[Collection(SharedServers.Name)]
public sealed class PrivateRabbitMqClusterTests(RabbitMqClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly CreateChannelOptions Confirms = new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task Three_nodes_form_one_cluster_and_a_quorum_queue_spans_them()
    {
        var cluster = fixture.Cluster;
        output.WriteLine($"cluster formed in {cluster.FormationTime.TotalSeconds:0.0} s: {cluster.Endpoints}");
        Assert.Equal(cluster.Nodes.Select(n => n.Name).Order(), await cluster.RunningNodesAsync());

        await using var connection = await ConnectAsync(cluster, "fixture-spans");
        await using var channel = await connection.CreateChannelAsync(Confirms);
        var queue = await DeclareQuorumQueueAsync(channel, "fixture.spans");
        await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes("hello"));
        var members = await cluster.Nodes[0].CtlAsync("-q", "list_queues", "name", "members", "--formatter", "json");
        foreach (var node in cluster.Nodes) Assert.Contains(node.Name, members);
        var got = await channel.BasicGetAsync(queue, autoAck: true);
        Assert.Equal("hello", Encoding.UTF8.GetString(got!.Body.Span));
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_client_moves_off_a_stopped_node_loses_no_message_and_the_node_rejoins()
    {
        var cluster = fixture.Cluster;
        await using var connection = await ConnectAsync(cluster, "fixture-failover");
        // Recovery is timed from the moment the client sees its connection go, not from the end of the node's shutdown.
        var clock = Stopwatch.StartNew();
        var lost = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var recovered = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionShutdownAsync += (_, _) => { lost.TrySetResult(clock.Elapsed); return Task.CompletedTask; };
        connection.RecoverySucceededAsync += (_, _) => { recovered.TrySetResult(clock.Elapsed); return Task.CompletedTask; };
        await using var channel = await connection.CreateChannelAsync(Confirms);
        var queue = await DeclareQuorumQueueAsync(channel, "fixture.failover");
        for (var i = 0; i < 50; i++) await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes($"before {i}"));

        var node = await cluster.WaitForNodeOfClientAsync("fixture-failover", TimeSpan.FromSeconds(20));
        clock.Restart();
        try
        {
            await cluster.StopNodeAsync(node);
            var stopped = clock.Elapsed;
            var lostAt = await lost.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var recoveredAt = await recovered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"stopped {cluster.Nodes[node].Name} in {stopped.TotalSeconds:0.0} s; the client lost its connection after " +
                             $"{lostAt.TotalSeconds:0.0} s and was back on another node {(recoveredAt - lostAt).TotalSeconds:0.0} s later");
            Assert.Equal(cluster.Nodes.Count - 1, (await cluster.RunningNodesAsync()).Count);

            for (var i = 0; i < 50; i++)
            {
                await PublishRetry.RunAsync(ct => channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties { Persistent = true },
                    Encoding.UTF8.GetBytes($"after {i}"), ct), CancellationToken.None);
            }
            var bodies = new List<string>();
            while (await channel.BasicGetAsync(queue, autoAck: true) is { } message) bodies.Add(Encoding.UTF8.GetString(message.Body.Span));
            Assert.Equal(Enumerable.Range(0, 50).Select(i => $"before {i}").Concat(Enumerable.Range(0, 50).Select(i => $"after {i}")), bodies);
        }
        finally
        {
            clock.Restart();
            await cluster.StartNodeAsync(node);
            await cluster.WaitForAllRunningAsync(TimeSpan.FromSeconds(90));
            output.WriteLine($"node back in the cluster after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        Assert.Equal(cluster.Nodes.Select(n => n.Name).Order(), await cluster.RunningNodesAsync());
        await channel.QueueDeleteAsync(queue);
    }

    private static Task<IConnection> ConnectAsync(PrivateRabbitMqCluster cluster, string name) =>
        RabbitMqConnections.ConnectAsync(new RabbitMqOptions { Uri = cluster.Uri, Endpoints = cluster.Endpoints }, name, _ => { },
            new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

    private static async Task<string> DeclareQuorumQueueAsync(IChannel channel, string name)
    {
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = QueueTopology.QueueType });
        await channel.QueuePurgeAsync(name);
        return name;
    }
}
