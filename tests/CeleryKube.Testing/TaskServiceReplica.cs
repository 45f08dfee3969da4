using CeleryKube.Protos.V1;
using Grpc.Net.Client;

namespace CeleryKube.Testing;

/// <summary>One task-service process of a stack, on its own free ports, with a client of its own.</summary>
public sealed class TaskServiceReplica : IAsyncDisposable
{
    internal TaskServiceReplica(string name, string folder, IReadOnlyDictionary<string, string> settings)
    {
        PublicPort = FreePorts.Next();
        ResultSinkPort = FreePorts.Next();
        MetricsPort = FreePorts.Next();
        HttpApiPort = FreePorts.Next();
        var env = new Dictionary<string, string>(settings)
        {
            ["TaskService__PublicPort"] = PublicPort.ToString(),
            ["TaskService__ResultSinkPort"] = ResultSinkPort.ToString(),
            ["TaskService__MetricsPort"] = MetricsPort.ToString(),
            ["TaskService__HttpApiPort"] = HttpApiPort.ToString(),
        };
        Process = new ServiceProcess(name, RepoPaths.ServiceDll("services/task-service", "CeleryKube.TaskService"), Path.Combine(folder, name), env);
        Channel = GrpcChannel.ForAddress(PublicUrl, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
        Tasks = new TaskService.TaskServiceClient(Channel);
    }

    /// <summary>TaskService gRPC port.</summary>
    public int PublicPort { get; }
    /// <summary>ResultSink gRPC port.</summary>
    public int ResultSinkPort { get; }
    /// <summary>Metrics port.</summary>
    public int MetricsPort { get; }
    /// <summary>JSON-over-HTTP/1.1 port (gRPC JSON transcoding).</summary>
    public int HttpApiPort { get; }
    /// <summary>http://127.0.0.1:PublicPort.</summary>
    public string PublicUrl => $"http://127.0.0.1:{PublicPort}";
    /// <summary>http://127.0.0.1:ResultSinkPort.</summary>
    public string ResultSinkUrl => $"http://127.0.0.1:{ResultSinkPort}";
    /// <summary>The process.</summary>
    public ServiceProcess Process { get; }
    /// <summary>A channel to this replica's public port only.</summary>
    public GrpcChannel Channel { get; }
    /// <summary>A TaskService client of this replica only.</summary>
    public TaskService.TaskServiceClient Tasks { get; }

    /// <summary>Starts (or restarts) the process and waits until it is connected to the broker.</summary>
    public async Task StartAsync()
    {
        var mark = Process.OutputMark;
        await Process.StartAsync(null);
        await Process.WaitForOutputAsync("Connected to RabbitMQ", TimeSpan.FromSeconds(60), mark);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Process.DisposeAsync();
    }
}
