namespace CeleryKube.Testing;

/// <summary>
/// A RabbitMQ node of the test's own (scripts/rabbitmq): free ports, a private data folder,
/// stopped on dispose. It can be restarted with its data to test broker outages.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private readonly RabbitMqNode node;

    private PrivateRabbitMq(RabbitMqNode node) => this.node = node;

    /// <summary>The AMQP port on 127.0.0.1.</summary>
    public int Port => node.Port;

    /// <summary>The value for <c>RabbitMq__Uri</c>.</summary>
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <summary>Starts a node and waits until it accepts connections.</summary>
    public static async Task<PrivateRabbitMq> StartAsync()
    {
        var node = new RabbitMqNode(RepoPaths.NewTempFolder("rabbit"), FreePorts.Next());
        await node.StartAsync();
        ProcessJanitor.OnExit(() =>
        {
            node.StopAsync().Wait(TimeSpan.FromSeconds(30));
            RepoPaths.DeleteTempFolder(node.Folder);
        });
        return new PrivateRabbitMq(node);
    }

    /// <summary>Stops the node (messages on durable queues survive) and starts it again.</summary>
    public async Task RestartAsync()
    {
        await StopNodeAsync();
        await StartNodeAsync();
    }

    /// <summary>Stops the node; <see cref="StartNodeAsync"/> brings it back with its data.</summary>
    public Task StopNodeAsync() => node.StopAsync();

    /// <summary>Starts the node on the same port and data folder.</summary>
    public Task StartNodeAsync() => node.StartAsync();

    /// <summary>Runs rabbitmqctl against the node and returns its output.</summary>
    public Task<string> CtlAsync(params string[] args) => node.CtlAsync(args);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopNodeAsync();
        RepoPaths.DeleteTempFolder(node.Folder);
    }
}
