using System.Collections.Concurrent;
using System.Text.Json;
using CeleryKube.Messaging;
using CeleryKube.Testing;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// The topology against the real private RabbitMQ (3.10), each test in a virtual host of its own:
/// task-service declares, workers only check, and a queue argument changed after the first start
/// is reported, not fatal.
/// </summary>
[Collection(TaskServiceCollection.Name)]
public sealed class QueueTopologyTests(SqliteTaskServiceFixture fx)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private async Task<(IConnection Connection, string VirtualHost)> ConnectToFreshVirtualHostAsync()
    {
        var vhost = $"topology-{Guid.NewGuid():N}";
        await fx.Stack.Rabbit.CtlAsync("add_vhost", vhost);
        await fx.Stack.Rabbit.CtlAsync("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        using var cts = new CancellationTokenSource(Wait);
        var options = new RabbitMqOptions { Uri = $"amqp://guest:guest@127.0.0.1:{fx.Stack.Rabbit.Port}/{vhost}" };
        return (await RabbitMqConnections.ConnectAsync(options, "topology-test", _ => { }, cts.Token), vhost);
    }

    /// <summary>Queue name to its arguments, as the broker lists them.</summary>
    private async Task<Dictionary<string, JsonElement>> QueuesAsync(string vhost)
    {
        var json = await fx.Stack.Rabbit.CtlAsync("list_queues", "-p", vhost, "name", "arguments", "--formatter", "json", "--quiet");
        return JsonDocument.Parse(json).RootElement.EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!, q => q.GetProperty("arguments"));
    }

    /// <summary>
    /// <c>x-delivery-limit</c> from a queue's listed arguments: an object, or a list of
    /// [name, type, value] entries as RabbitMQ 3.10 prints them.
    /// </summary>
    private static int DeliveryLimit(JsonElement arguments)
    {
        const string name = "x-delivery-limit";
        if (arguments.ValueKind == JsonValueKind.Object) return arguments.GetProperty(name).GetInt32();
        foreach (var entry in arguments.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.Array && entry[0].GetString() == name) return entry[entry.GetArrayLength() - 1].GetInt32();
            if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty(name, out var value)) return value.GetInt32();
        }
        throw new InvalidOperationException($"no {name} in {arguments}");
    }

    [Fact]
    public async Task A_delivery_limit_changed_after_the_first_start_is_reported_and_the_queues_keep_working()
    {
        var (connection, vhost) = await ConnectToFreshVirtualHostAsync();
        await using var _ = connection;
        await QueueTopology.DeclareAsync(connection, deliveryLimit: 5, new ListLogger());

        var log = new ListLogger();
        await QueueTopology.DeclareAsync(connection, deliveryLimit: 3, log);

        var error = Assert.Single(log.Entries, e => e.Level == LogLevel.Error && e.Message.StartsWith("lcs.small", StringComparison.Ordinal)).Message;
        Assert.Contains("RabbitMq__DeliveryLimit=3", error);
        Assert.Contains("x-delivery-limit", error); // the broker's own words
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Error && e.Message.StartsWith("lcs.large", StringComparison.Ordinal));
        var queues = await QueuesAsync(vhost);
        Assert.Equal(5, DeliveryLimit(queues["lcs.small"]));

        // Declaring went on past the refusal: jobs published to the exchange still reach both queues.
        await using var channel = await connection.CreateChannelAsync();
        foreach (var queue in QueueTopology.TaskQueues)
        {
            await channel.BasicPublishAsync(QueueTopology.JobsExchange, QueueTopology.RoutingKey(queue), mandatory: true, new BasicProperties(), new byte[] { 1 });
        }
        await Eventually.True(async () =>
            (await channel.QueueDeclarePassiveAsync("lcs.small")).MessageCount == 1 && (await channel.QueueDeclarePassiveAsync("lcs.large")).MessageCount == 1,
            Wait, "one job on each work queue");
    }

    [Fact]
    public async Task A_worker_waits_for_task_service_to_declare_its_queue_and_never_declares_it_itself()
    {
        var (connection, vhost) = await ConnectToFreshVirtualHostAsync();
        await using var _ = connection;
        var log = new ListLogger();
        using var cts = new CancellationTokenSource(Wait);

        var waiting = QueueTopology.AwaitDeclaredAsync(connection, "lcs.large", log, cts.Token);
        await Eventually.True(() => Task.FromResult(log.Entries.Any(e => e.Message.Contains("does not exist yet", StringComparison.Ordinal))),
            Wait, "the worker to say it waits for task-service");
        Assert.False(waiting.IsCompleted);
        Assert.Empty(await QueuesAsync(vhost));

        await QueueTopology.DeclareAsync(connection, deliveryLimit: 7, new ListLogger());
        await waiting.WaitAsync(Wait);
        Assert.Equal(7, DeliveryLimit((await QueuesAsync(vhost))["lcs.large"]));
    }

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
