using System.Diagnostics;
using System.Text.Json;

namespace CeleryKube.Testing;

/// <summary>
/// Three RabbitMQ nodes on this machine forming one cluster (see SCALE-OUT.md): one private epmd
/// port and one Erlang cookie for all, one folder each under one private folder. Forming takes
/// tens of seconds, so a test run forms it once (<see cref="SharedAsync"/>) and tears it down when
/// the test process exits. Tests may stop and start single nodes; they leave all of them running.
/// </summary>
public sealed class PrivateRabbitMqCluster : IAsyncDisposable
{
    private const string Purpose = "rabbitcluster";
    private static readonly Lazy<Task<PrivateRabbitMqCluster>> Shared = new(StartSharedAsync);
    private readonly int epmdPort;

    private PrivateRabbitMqCluster(string folder, int epmdPort, IReadOnlyList<RabbitMqNode> nodes)
    {
        Folder = folder;
        this.epmdPort = epmdPort;
        Nodes = nodes;
    }

    /// <summary>The cluster's folder, holding one folder per node.</summary>
    public string Folder { get; }

    /// <summary>The nodes; the first is the one the others joined.</summary>
    public IReadOnlyList<RabbitMqNode> Nodes { get; }

    /// <summary>How long starting the nodes and joining them took.</summary>
    public TimeSpan FormationTime { get; private set; }

    /// <summary>
    /// The value for <c>RabbitMq__Uri</c>: credentials and vhost (its host is the first node,
    /// used only when <see cref="Endpoints"/> is not given).
    /// </summary>
    public string Uri => $"amqp://guest:guest@{Nodes[0].Endpoint}/";

    /// <summary>The value for <c>RabbitMq__Endpoints</c>: every node as host:port.</summary>
    public string Endpoints => string.Join(',', Nodes.Select(n => n.Endpoint));

    /// <summary>The cluster of this test process, formed on first use and stopped when the process exits.</summary>
    public static Task<PrivateRabbitMqCluster> SharedAsync() => Shared.Value;

    /// <summary>Stops the shared cluster if it was started (the collection fixture calls this after its last test).</summary>
    public static async Task StopSharedAsync()
    {
        if (Shared.IsValueCreated && Shared.Value.IsCompletedSuccessfully) await (await Shared.Value).DisposeAsync();
    }

    /// <summary>Starts <paramref name="size"/> nodes at once, joins them into one cluster and waits until all run.</summary>
    public static async Task<PrivateRabbitMqCluster> StartAsync(int size = 3)
    {
        await LeftoverServers.StopOrphansAsync(Purpose, StopFolderAsync);
        var clock = Stopwatch.StartNew();
        var folder = LeftoverServers.NewOwnedFolder(Purpose);
        var epmdPort = FreePorts.Next();
        var cookie = Guid.NewGuid().ToString("N");
        var nodes = Enumerable.Range(1, size)
            .Select(i => new RabbitMqNode(Path.Combine(folder, $"node{i}"), FreePorts.Next(), FreePorts.Next(), epmdPort, cookie))
            .ToList();
        var cluster = new PrivateRabbitMqCluster(folder, epmdPort, nodes);
        try
        {
            // Booting is most of the time and independent per node; joins change the cluster and go one by one.
            await Task.WhenAll(nodes.Select(n => n.StartAsync()));
            foreach (var node in nodes.Skip(1)) await node.JoinAsync(nodes[0]);
            await cluster.WaitForAllRunningAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        cluster.FormationTime = clock.Elapsed;
        return cluster;
    }

    /// <summary>Stops node <paramref name="index"/> (0-based); the others keep serving.</summary>
    public Task StopNodeAsync(int index) => Nodes[index].StopAsync();

    /// <summary>Starts node <paramref name="index"/> again; it rejoins the cluster with its data.</summary>
    public Task StartNodeAsync(int index) => Nodes[index].StartAsync();

    /// <summary>The Erlang names of the nodes the cluster reports as running, asked of the first node that answers.</summary>
    public async Task<IReadOnlyList<string>> RunningNodesAsync()
    {
        using var status = JsonDocument.Parse(await AnyNodeCtlAsync("cluster_status", "--formatter", "json"));
        return [.. status.RootElement.GetProperty("running_nodes").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal)];
    }

    /// <summary>Waits until every node is a running member of the cluster.</summary>
    public Task WaitForAllRunningAsync(TimeSpan timeout) =>
        Eventually.True(async () => (await RunningNodesAsync()).Count == Nodes.Count, timeout, $"all {Nodes.Count} nodes of the cluster in {Folder} to run");

    /// <summary>
    /// The index of the node that holds the client connection named <paramref name="clientName"/>
    /// (its <c>ClientProvidedName</c>), once the broker lists it.
    /// </summary>
    public async Task<int> WaitForNodeOfClientAsync(string clientName, TimeSpan timeout)
    {
        var found = await Eventually.Until(async () => await NodeOfClientAsync(clientName) is var n and >= 0 ? new[] { n } : null,
            timeout, $"the cluster to list a connection named {clientName}");
        return found[0];
    }

    private async Task<int> NodeOfClientAsync(string clientName)
    {
        // The connection's name is "client ip:port -> server ip:port": the server port tells the node.
        using var connections = JsonDocument.Parse(await AnyNodeCtlAsync("list_connections", "name", "client_properties", "--formatter", "json"));
        foreach (var connection in connections.RootElement.EnumerateArray())
        {
            if (!connection.GetProperty("client_properties").GetRawText().Contains($"\"{clientName}\"", StringComparison.Ordinal)) continue;
            var server = connection.GetProperty("name").GetString()!.Split("->")[^1].Trim();
            return Nodes.ToList().FindIndex(n => n.Endpoint == server);
        }
        return -1;
    }

    /// <summary>Stops every node, then the shared epmd, and deletes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Nodes.Select(n => n.StopAsync().ContinueWith(_ => { }, TaskScheduler.Default)));
        await KillEpmdAsync(epmdPort);
        RepoPaths.DeleteTempFolder(Folder);
    }

    private async Task<string> AnyNodeCtlAsync(params string[] args)
    {
        InvalidOperationException? last = null;
        foreach (var node in Nodes)
        {
            try
            {
                return await node.CtlAsync(["-q", .. args]);
            }
            catch (InvalidOperationException ex)
            {
                last = ex; // that node is down; ask the next
            }
        }
        throw last!;
    }

    private static async Task<PrivateRabbitMqCluster> StartSharedAsync()
    {
        var cluster = await StartAsync();
        ProcessJanitor.OnExit(() => cluster.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(60)));
        return cluster;
    }

    /// <summary>Nodes stopped in parallel may each find the others still registered; the last word is ours.</summary>
    private static Task KillEpmdAsync(int port) => ExternalCommand.RunAsync("epmd", ["-port", port.ToString(), "-kill"]);

    private static async Task StopFolderAsync(string folder)
    {
        var nodeFolders = Directory.EnumerateDirectories(folder, "node*").ToList();
        await Task.WhenAll(nodeFolders.Select(RabbitMqNode.StopLeftoverAsync));
        var env = nodeFolders.Select(f => Path.Combine(f, "node.env")).FirstOrDefault(File.Exists);
        var epmd = env is null ? null : File.ReadLines(env).FirstOrDefault(l => l.StartsWith("ERL_EPMD_PORT=", StringComparison.Ordinal));
        if (epmd is not null) await KillEpmdAsync(int.Parse(epmd["ERL_EPMD_PORT=".Length..]));
    }
}
