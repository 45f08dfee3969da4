using RabbitMQ.Client;

namespace CeleryKube.Messaging;

/// <summary>Creates broker connections the same way in every process.</summary>
public static class RabbitMqConnections
{
    /// <summary>
    /// A factory with automatic connection and topology recovery, so a broker restart costs a
    /// reconnect, not a process restart.
    /// </summary>
    public static ConnectionFactory CreateFactory(RabbitMqOptions options, string clientName) => new()
    {
        Uri = new Uri(options.Uri),
        ClientProvidedName = clientName,
        AutomaticRecoveryEnabled = true,
        TopologyRecoveryEnabled = true,
        NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
        RequestedHeartbeat = TimeSpan.FromSeconds(15),
        ConsumerDispatchConcurrency = 1,
    };

    /// <summary>
    /// Connects, retrying every second until the broker answers or <paramref name="cancellationToken"/>
    /// fires (a first connection is not covered by automatic recovery).
    /// </summary>
    public static async Task<IConnection> ConnectAsync(ConnectionFactory factory, Action<Exception> onRetry, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await factory.CreateConnectionAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                onRetry(ex);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
