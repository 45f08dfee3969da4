using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CeleryKube.Testing;

/// <summary>Loopback ports nobody is listening on, never the fixed ones scripts/up uses.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    // Test processes run side by side (scripts/test runs the integration suite once per store at
    // the same time), and a port free now may be taken by a server another process starts later:
    // each handed port is claimed machine-wide with a file naming the claiming process.
    private static readonly string Claims = Path.Combine(Path.GetTempPath(), "celerykube-port-claims");

    /// <summary>A port free right now and not handed out before in this or another live test process.</summary>
    public static int Next()
    {
        lock (Handed)
        {
            Directory.CreateDirectory(Claims);
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                // RabbitMQ derives two more ports from its AMQP port (+20000, +21000); keep them valid.
                if (port < 10000 || port > 44000 || Handed.Contains(port) || !TryClaim(port)) continue;
                Handed.Add(port);
                return port;
            }
        }
    }

    /// <summary>Creates the port's claim file; a claim whose process is gone is taken over.</summary>
    private static bool TryClaim(int port)
    {
        var file = Path.Combine(Claims, port.ToString(CultureInfo.InvariantCulture));
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                using var claim = new FileStream(file, FileMode.CreateNew, FileAccess.Write);
                claim.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
                return true;
            }
            catch (IOException) when (File.Exists(file))
            {
                string owner;
                try { owner = File.ReadAllText(file); } catch (IOException) { return false; }
                // An empty file is a claim being written right now: not ours to take.
                if (!int.TryParse(owner, out var pid) || Directory.Exists($"/proc/{pid}")) return false;
                try { File.Delete(file); } catch (IOException) { return false; }
            }
        }
        return false;
    }
}
