using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace CeleryKube.Messaging;

/// <summary>Who connects and what it makes sure of before anyone uses the connection.</summary>
/// <param name="Name">The client name the broker shows for the connection.</param>
/// <param name="PrepareAsync">
/// Runs once after the first connect: task-service declares the topology
/// (<see cref="QueueTopology.DeclareAsync"/>), a worker waits until its queue exists
/// (<see cref="QueueTopology.AwaitDeclaredAsync"/>).
/// </param>
public sealed record BrokerClient(string Name, Func<IConnection, ILogger, CancellationToken, Task> PrepareAsync);

/// <summary>
/// A process's one connection to RabbitMQ, the same in task-service and workers: it connects in the
/// background (retrying until the broker answers), prepares the topology, relies on automatic
/// recovery afterwards and closes on shutdown. Registered before the services that use it, so it
/// stops after them (a worker still acknowledges while it drains).
/// </summary>
public sealed class BrokerConnection(IOptions<RabbitMqOptions> options, BrokerClient client, ILogger<BrokerConnection> logger) : BackgroundService
{
    private readonly TaskCompletionSource<IConnection> connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True while the connection is open (false before the first connect and during recovery).</summary>
    public bool IsOpen => connected.Task.IsCompletedSuccessfully && connected.Task.Result.IsOpen;

    /// <summary>The connection, once it is connected and prepared.</summary>
    public Task<IConnection> GetAsync(CancellationToken cancellationToken) => connected.Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var broker = options.Value.RedactedBroker;
        var connection = await RabbitMqConnections.ConnectAsync(options.Value, client.Name,
            ex => logger.LogWarning("RabbitMQ at {Broker} is not reachable yet ({Error}); retrying", broker, ex.Message), stoppingToken);
        connection.ConnectionShutdownAsync += (_, e) =>
        {
            if (e.Initiator != ShutdownInitiator.Application) logger.LogWarning("RabbitMQ connection lost: {Reason}", e.ReplyText);
            return Task.CompletedTask;
        };
        connection.RecoverySucceededAsync += (_, _) =>
        {
            logger.LogInformation("RabbitMQ connection recovered");
            return Task.CompletedTask;
        };
        await client.PrepareAsync(connection, logger, stoppingToken);
        logger.LogInformation("Connected to RabbitMQ at {Broker}", broker);
        connected.TrySetResult(connection);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!connected.Task.IsCompletedSuccessfully) return;
        var connection = connected.Task.Result;
        try
        {
            await connection.CloseAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex)
        {
            logger.LogDebug("closing the RabbitMQ connection failed: {Error}", ex.Message);
        }
        connection.Dispose();
    }
}

/// <summary>Registers the shared <see cref="BrokerConnection"/>.</summary>
public static class BrokerConnectionSetup
{
    /// <summary>
    /// Registers the connection as a singleton and a hosted service. Call it before adding the
    /// hosted services that use it: hosted services stop in reverse order.
    /// </summary>
    public static IServiceCollection AddBrokerConnection(this IServiceCollection services, Func<IServiceProvider, BrokerClient> client)
    {
        services.AddSingleton(client);
        services.AddSingleton<BrokerConnection>();
        services.AddHostedService(sp => sp.GetRequiredService<BrokerConnection>());
        return services;
    }
}
