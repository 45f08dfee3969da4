using System.Collections.Concurrent;
using System.Diagnostics;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CeleryKube.ScaleOut.Tests;

/// <summary>
/// The broker-node drill of issue 13 through real processes: task-service (SQLite store) and two
/// workers on the three-node cluster via <c>RabbitMq__Endpoints</c>; the node task-service is
/// connected to is stopped while tasks flow.
/// </summary>
public sealed class BrokerNodeDrillTests(ITestOutputHelper output)
{
    /// <summary>What "recovers within seconds" means here, with room for a busy two-core machine.</summary>
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<string, string> accepted = new(); // task id -> idempotency key
    private int refusedSubmits;

    [Fact]
    public async Task Stopping_the_node_task_service_uses_while_tasks_flow_loses_nothing_and_the_node_rejoins()
    {
        var cluster = await PrivateRabbitMqCluster.SharedAsync();
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Cluster = cluster, Workers = [("small", 2), ("small", 2)] });
        var node = await cluster.WaitForNodeOfClientAsync("task-service", TimeSpan.FromSeconds(20));

        using var stopLoad = new CancellationTokenSource();
        var load = Task.Run(() => LoadAsync(stack, stopLoad.Token));
        await Eventually.True(() => Task.FromResult(accepted.Count >= 30), TimeSpan.FromSeconds(60), "30 tasks accepted before the fault");

        var mark = stack.TaskService.OutputMark;
        var clock = Stopwatch.StartNew();
        await cluster.StopNodeAsync(node);
        var stopped = clock.Elapsed;
        await stack.TaskService.WaitForOutputAsync("RabbitMQ connection recovered", RecoveryLimit + stopped, mark);
        var recovery = clock.Elapsed - stopped;
        var acceptedAtRecovery = accepted.Count;
        output.WriteLine($"stopped {cluster.Nodes[node].Name} (task-service's node) in {stopped.TotalSeconds:0.0} s; " +
                         $"task-service recovered {recovery.TotalSeconds:0.0} s later on another node");

        // Tasks keep flowing on the two remaining nodes, then the node comes back.
        await Eventually.True(() => Task.FromResult(accepted.Count >= acceptedAtRecovery + 30), TimeSpan.FromSeconds(60), "30 more tasks accepted after recovery");
        clock.Restart();
        await cluster.StartNodeAsync(node);
        await cluster.WaitForAllRunningAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"node back in the cluster after {clock.Elapsed.TotalSeconds:0.0} s");
        await stopLoad.CancelAsync();
        await load;

        var final = new List<LcsTask>();
        foreach (var id in accepted.Keys) final.Add(await stack.WaitForFinalAsync(id, TimeSpan.FromSeconds(120)));
        var applied = AppliedResults.Count(stack.Workers);
        output.WriteLine($"{accepted.Count} accepted, {refusedSubmits} submits refused while the broker moved and retried with the same key");

        Assert.True(recovery < RecoveryLimit, $"recovery took {recovery}");
        Assert.All(final, t => Assert.True(t.State == TaskState.Succeeded, $"{t.Id} is {t.State}: {t.Error}\n{stack.Logs()}"));
        Assert.All(accepted.Keys, id => Assert.Equal(1, applied.GetValueOrDefault(id)));
        var listed = await stack.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1000 });
        Assert.Equal(accepted.Keys.Order(), listed.Tasks.Select(t => t.Id).Order());
    }

    /// <summary>Small tasks, each with an idempotency key and retried until accepted, so "accepted" is exact.</summary>
    private async Task LoadAsync(CeleryKubeStack stack, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var request = new SubmitLcsRequest { TextA = $"drill {n} alpha", TextB = $"beta {n} drill", IdempotencyKey = $"node-drill-{n}" };
            while (true)
            {
                try
                {
                    var response = await stack.Tasks.SubmitLcsAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
                    accepted[response.Task.Id] = request.IdempotencyKey;
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    Interlocked.Increment(ref refusedSubmits);
                    await Task.Delay(200, CancellationToken.None);
                }
            }
            await Task.Delay(50, CancellationToken.None);
        }
    }
}
