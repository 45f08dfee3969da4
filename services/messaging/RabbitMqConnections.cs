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
    /// Connects to the broker of <paramref name="options"/> (to one of <see cref="RabbitMqOptions.Endpoints"/>
    /// when set, so recovery can move to another node), retrying every second until it answers or
    /// <paramref name="cancellationToken"/> fires (a first connection is not covered by automatic recovery).
    /// </summary>
    public static async Task<IConnection> ConnectAsync(RabbitMqOptions options, string clientName, Action<Exception> onRetry,
        CancellationToken cancellationToken)
    {
        var factory = CreateFactory(options, clientName);
        // amqps:// in the URI means TLS to every node, each checked against its own host name.
        var endpoints = options.EndpointList
            .Select(e => new AmqpTcpEndpoint(e.Host, e.Port, new SslOption(e.Host, enabled: factory.Ssl.Enabled)))
            .ToList();
        while (true)
        {
            try
            {
                return endpoints.Count > 0
                    ? await factory.CreateConnectionAsync(endpoints, clientName, cancellationToken)
                    : await factory.CreateConnectionAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                onRetry(ex);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
