using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// task-service as a real process against a private RabbitMQ node, with no workers, so tasks stay
/// where the test puts them. The test itself plays the worker through the real ResultSink.
/// </summary>
public sealed class TaskServiceFixture : IAsyncLifetime
{
    /// <summary>The input limit of this stack, small so oversize inputs are cheap.</summary>
    public const int MaxInputChars = 5000;

    /// <summary>The lease of this stack (<c>Leases__Duration</c>), short so the reaper acts within a test.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    public CeleryKubeStack Stack { get; private set; } = null!;
    public Protos.V1.TaskService.TaskServiceClient Tasks => Stack.Tasks;
    public ResultSinkService.ResultSinkServiceClient Sink { get; private set; } = null!;
    private GrpcChannel sinkChannel = null!;

    public async Task InitializeAsync()
    {
        Stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [],
            TaskServiceSettings = new Dictionary<string, string>
            {
                ["Limits__MaxInputChars"] = MaxInputChars.ToString(),
                ["Leases__Duration"] = Lease.ToString("c"),
                ["Leases__ReaperInterval"] = "00:00:00.250",
            },
        });
        sinkChannel = GrpcChannel.ForAddress(Stack.ResultSinkUrl);
        Sink = new ResultSinkService.ResultSinkServiceClient(sinkChannel);
    }

    /// <summary>Bearer header for the ResultSink.</summary>
    public Metadata Auth => new() { { "authorization", $"Bearer {Stack.Token}" } };

    public async Task<LcsTask> SubmitAsync(string a, string b, string key = "", LcsAlgorithm algorithm = LcsAlgorithm.Unspecified) =>
        (await Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = a, TextB = b, IdempotencyKey = key, Algorithm = algorithm },
            deadline: DateTime.UtcNow.AddSeconds(30))).Task;

    public async Task DisposeAsync()
    {
        sinkChannel.Dispose();
        await Stack.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TaskServiceCollection : ICollectionFixture<TaskServiceFixture>
{
    public const string Name = "task-service process";
}
