using System.Net;
using System.Net.Sockets;

namespace CeleryKube.Testing;

/// <summary>
/// What a Kubernetes Service does for several task-service replicas, on loopback: one port whose
/// TCP connections go to the backends in turn, skipping a backend that refuses. A connection
/// lives and dies with its backend, so a killed replica's clients reconnect and land on a live
/// one, as they would through kube-proxy.
/// </summary>
public sealed class LoopbackBalancer : IAsyncDisposable
{
    private readonly TcpListener listener;
    private readonly IReadOnlyList<int> backends;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;
    private int next;

    /// <summary>Starts listening on a free port and forwarding to <paramref name="backendPorts"/> on 127.0.0.1.</summary>
    public LoopbackBalancer(IReadOnlyList<int> backendPorts)
    {
        backends = backendPorts;
        Port = FreePorts.Next();
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        accepting = AcceptAsync();
    }

    /// <summary>The balanced port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>http://127.0.0.1:Port.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        {
            using var backend = await ConnectToAnyBackendAsync();
            if (backend is null) return;
            client.NoDelay = backend.NoDelay = true;
            using var both = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            var up = PipeAsync(client.GetStream(), backend.GetStream(), both.Token);
            var down = PipeAsync(backend.GetStream(), client.GetStream(), both.Token);
            // Either side closing ends the connection, as a dead pod's connections end.
            await Task.WhenAny(up, down);
            await both.CancelAsync();
        }
    }

    private async Task<TcpClient?> ConnectToAnyBackendAsync()
    {
        for (var tried = 0; tried < backends.Count; tried++)
        {
            var port = backends[(int)((uint)Interlocked.Increment(ref next) % backends.Count)];
            var backend = new TcpClient();
            try
            {
                await backend.ConnectAsync(IPAddress.Loopback, port, stop.Token);
                return backend;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                backend.Dispose();
            }
        }
        return null;
    }

    private static async Task PipeAsync(NetworkStream from, NetworkStream to, CancellationToken cancel)
    {
        try
        {
            await from.CopyToAsync(to, cancel);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        stop.Dispose();
    }
}
