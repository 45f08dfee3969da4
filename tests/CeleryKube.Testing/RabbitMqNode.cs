namespace CeleryKube.Testing;

/// <summary>
/// One RabbitMQ node run by scripts/rabbitmq from its own folder: the launcher behind both
/// <see cref="PrivateRabbitMq"/> (one node) and <see cref="PrivateRabbitMqCluster"/> (three).
/// Stopping keeps the folder, so a start brings the node back with its data.
/// </summary>
public sealed class RabbitMqNode
{
    private readonly string[] startArgs;

    /// <summary>
    /// Describes (does not start) a node in <paramref name="folder"/> on <paramref name="port"/>.
    /// Nodes of one cluster pass the same <paramref name="epmdPort"/> and <paramref name="cookie"/>;
    /// a lone node leaves them out (the script derives private ports from the AMQP port).
    /// </summary>
    public RabbitMqNode(string folder, int port, int? distPort = null, int? epmdPort = null, string? cookie = null)
    {
        Folder = folder;
        Port = port;
        startArgs = distPort is null ? [port.ToString()] : [port.ToString(), distPort.Value.ToString(), epmdPort!.Value.ToString(), cookie ?? ""];
    }

    /// <summary>The node's folder (data, logs, Erlang cookie).</summary>
    public string Folder { get; }

    /// <summary>The AMQP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The Erlang node name scripts/rabbitmq gives it.</summary>
    public string Name => $"ck{Port}@localhost";

    /// <summary><c>127.0.0.1:Port</c>, one entry of <c>RabbitMq__Endpoints</c>.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Starts the node with its data and waits until it accepts connections.</summary>
    public Task StartAsync() => Script("start", startArgs);

    /// <summary>Stops the node and waits until its VM has exited; its epmd goes too once no node uses it.</summary>
    public Task StopAsync() => Script("stop");

    /// <summary>Makes this (running, fresh) node a member of <paramref name="seed"/>'s cluster.</summary>
    public Task JoinAsync(RabbitMqNode seed) => Script("join", seed.Name);

    /// <summary>Runs rabbitmqctl against the node and returns its output.</summary>
    public async Task<string> CtlAsync(params string[] args)
    {
        var (code, output) = await ExternalCommand.RunAsync(ScriptPath, ["ctl", Folder, .. args]);
        if (code != 0) throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} on {Name} failed: {output}");
        return output;
    }

    /// <summary>Stops the node of a folder a killed test run left behind.</summary>
    public static Task StopLeftoverAsync(string folder) => ExternalCommand.RunAsync(ScriptPath, ["stop", folder]);

    private static string ScriptPath => Path.Combine(RepoPaths.Root, "scripts", "rabbitmq");

    private async Task Script(string command, params string[] more)
    {
        var (code, output) = await ExternalCommand.RunAsync(ScriptPath, [command, Folder, .. more]);
        if (code != 0) throw new InvalidOperationException($"scripts/rabbitmq {command} {Name} failed ({code}): {output}");
    }
}
