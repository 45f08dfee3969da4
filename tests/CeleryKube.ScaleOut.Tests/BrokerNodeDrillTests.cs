using System.Diagnostics;
using System.Text.RegularExpressions;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Xunit.Abstractions;

namespace CeleryKube.ScaleOut.Tests;

/// <summary>
/// The broker-node drill of issue 13 through real processes: task-service (SQLite store) and two
/// workers on the three-node cluster via <c>RabbitMq__Endpoints</c>; the node task-service is
/// connected to is stopped while tasks flow.
/// </summary>
[Collection(SharedServers.Name)]
public sealed partial class BrokerNodeDrillTests(RabbitMqClusterFixture fixture, ITestOutputHelper output)
{
    /// <summary>What "recovers within seconds" means here, with room for a busy two-core machine.</summary>
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Stopping_the_node_task_service_uses_while_tasks_flow_loses_nothing_and_the_node_rejoins()
    {
        var cluster = fixture.Cluster;
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Cluster = cluster, Workers = [("small", 2), ("small", 2)] });
        var node = await cluster.WaitForNodeOfClientAsync("task-service", TimeSpan.FromSeconds(20));

        var load = new KeyedLoad(stack.Tasks, "node-drill", TimeSpan.FromMilliseconds(50));
        using var stopLoad = new CancellationTokenSource();
        var loading = Task.Run(() => load.RunAsync(stopLoad.Token));
        await load.WaitForAcceptedAsync(30, TimeSpan.FromSeconds(60));

        // Recovery is timed from the moment task-service sees its connection go to the moment it
        // is back on another node; the node's own shutdown takes longer and runs alongside.
        var mark = stack.TaskService.OutputMark;
        var clock = Stopwatch.StartNew();
        var stopping = cluster.StopNodeAsync(node);
        await stack.TaskService.WaitForOutputAsync("RabbitMQ connection lost", TimeSpan.FromSeconds(60), mark);
        var lost = clock.Elapsed;
        await stack.TaskService.WaitForOutputAsync("RabbitMQ connection recovered", RecoveryLimit, mark);
        var recovery = clock.Elapsed - lost;
        var acceptedAtRecovery = load.Accepted.Count;
        await stopping;
        output.WriteLine($"stopped {cluster.Nodes[node].Name} (task-service's node) in {clock.Elapsed.TotalSeconds:0.0} s; task-service lost its " +
                         $"connection after {lost.TotalSeconds:0.0} s and was back on another node {recovery.TotalSeconds:0.0} s later");

        // Tasks keep flowing on the two remaining nodes, then the node comes back.
        await load.WaitForAcceptedAsync(acceptedAtRecovery + 30, TimeSpan.FromSeconds(60));
        clock.Restart();
        await cluster.StartNodeAsync(node);
        await cluster.WaitForAllRunningAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"node back in the cluster after {clock.Elapsed.TotalSeconds:0.0} s");
        await stopLoad.CancelAsync();
        await loading;

        var problems = await load.FindProblemsAsync(stack, TimeSpan.FromSeconds(120));
        output.WriteLine($"{load.Accepted.Count} accepted, {load.Refused} submits refused while the broker moved and retried with the same key");

        Assert.True(recovery < RecoveryLimit, $"recovery took {recovery}");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)) + "\n" + stack.Logs());

        await MonitoringNamesAreExportedAsync(stack);
    }

    /// <summary>
    /// Every metric the alerts and the dashboard (deploy/kustomize/components/monitoring) query is
    /// one the services export. The names come from the instruments in the services' code
    /// (Meter.CreateX), spelled as the Prometheus exporter writes them; the live /metrics of
    /// task-service and the workers after real work confirm that spelling (an instrument with no
    /// measurement yet, e.g. requeued, is not written at all, so the scrape alone cannot be the list).
    /// </summary>
    private static async Task MonitoringNamesAreExportedAsync(CeleryKubeStack stack)
    {
        var declared = new HashSet<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "services"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)))
        {
            foreach (Match m in Instrument().Matches(File.ReadAllText(file)))
            {
                var name = m.Groups["name"].Value.Replace('.', '_') + (m.Groups["unit"].Value == "s" ? "_seconds" : "");
                switch (m.Groups["kind"].Value)
                {
                    case "Counter": declared.Add(name + "_total"); break;
                    case "Histogram": declared.UnionWith([name + "_bucket", name + "_sum", name + "_count"]); break;
                    default: declared.Add(name); break;
                }
            }
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var scraped = await http.GetStringAsync($"http://127.0.0.1:{stack.MetricsPort}/metrics");
        foreach (var worker in stack.Workers) scraped += await http.GetStringAsync($"http://127.0.0.1:{worker.Environment["Worker__MetricsPort"]}/metrics");
        var exported = Regex.Matches(scraped, @"^(celerykube_\w+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Contains("celerykube_tasks_submitted_total", exported);
        Assert.All(exported, name => Assert.True(declared.Contains(name), $"/metrics writes {name}, which the spelling rule does not give; declared: {string.Join(", ", declared.Order())}"));

        var folder = Path.Combine(RepoPaths.Root, "deploy", "kustomize", "components", "monitoring");
        var queried = Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), @"celerykube_\w+").Select(m => m.Value)).ToHashSet();
        Assert.NotEmpty(queried);
        Assert.All(queried, name => Assert.True(declared.Contains(name), $"components/monitoring queries {name}, which no service exports; exported: {string.Join(", ", declared.Order())}"));
    }

    [GeneratedRegex(@"Create(?<kind>Counter|Histogram|ObservableGauge|Gauge|UpDownCounter|ObservableCounter|ObservableUpDownCounter)(<\w+>)?\(\s*""(?<name>celerykube\.[\w.]+)""(\s*,\s*""(?<unit>[^""]*)"")?")]
    private static partial Regex Instrument();
}
