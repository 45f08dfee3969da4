using CeleryKube.Messaging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace CeleryKube.TaskService.Broker;

/// <summary>
/// task-service's one connection to RabbitMQ. It connects in the background (retrying until the
/// broker answers), declares the topology, and relies on automatic recovery afterwards.
/// </summary>
public sealed class BrokerConnection(IOptions<RabbitMqOptions> options, ILogger<BrokerConnection> logger) : BackgroundService
{
    private readonly TaskCompletionSource<IConnection> connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True while the connection is open (false before the first connect and during recovery).</summary>
    public bool IsOpen => connected.Task.IsCompletedSuccessfully && connected.Task.Result.IsOpen;

    /// <summary>The connection, once the first connect succeeded.</summary>
    public Task<IConnection> GetAsync(CancellationToken cancellationToken) => connected.Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await RabbitMqConnections.ConnectAsync(options.Value, "task-service",
            ex => logger.LogWarning("RabbitMQ at {Broker} is not reachable yet: {Error}", options.Value.RedactedBroker, ex.Message),
            stoppingToken);
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken))
        {
            await QueueTopology.DeclareAsync(channel, options.Value.DeliveryLimit, stoppingToken);
        }
        connection.ConnectionShutdownAsync += (_, e) =>
        {
            logger.LogWarning("RabbitMQ connection lost: {Reason}", e.ReplyText);
            return Task.CompletedTask;
        };
        connection.RecoverySucceededAsync += (_, _) =>
        {
            logger.LogInformation("RabbitMQ connection recovered");
            return Task.CompletedTask;
        };
        logger.LogInformation("Connected to RabbitMQ at {Broker}", options.Value.RedactedBroker);
        connected.TrySetResult(connection);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (connected.Task.IsCompletedSuccessfully)
        {
            await connected.Task.Result.CloseAsync(cancellationToken);
            connected.Task.Result.Dispose();
        }
    }
}
