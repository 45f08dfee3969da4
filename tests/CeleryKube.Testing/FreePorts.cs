using System.Net;
using System.Net.Sockets;

namespace CeleryKube.Testing;

/// <summary>Loopback ports nobody is listening on, never the fixed ones scripts/up uses.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A port free right now and not handed out before in this test run.</summary>
    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                // RabbitMQ derives two more ports from its AMQP port (+20000, +21000); keep them valid.
                if (port < 10000 || port > 44000 || !Handed.Add(port)) continue;
                return port;
            }
        }
    }
}
