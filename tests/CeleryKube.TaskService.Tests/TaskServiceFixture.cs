using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// task-service as a real process against a private RabbitMQ node, with no workers, so tasks stay
/// where the test puts them. The test itself plays the worker through the real ResultSink. One
/// subclass per store engine.
/// </summary>
public abstract class TaskServiceFixture : IAsyncLifetime
{
    /// <summary>The input limit of this stack, small so oversize inputs are cheap.</summary>
    public const int MaxInputChars = 5000;

    /// <summary>The lease of this stack (<c>Leases__Duration</c>), short so the reaper acts within a test.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    public CeleryKubeStack Stack { get; private set; } = null!;
    public Protos.V1.TaskService.TaskServiceClient Tasks => Stack.Tasks;
    public ResultSinkService.ResultSinkServiceClient Sink { get; private set; } = null!;
    private GrpcChannel sinkChannel = null!;

    /// <summary>The store settings of this engine (none for the default, SQLite).</summary>
    protected abstract Task<IReadOnlyDictionary<string, string>> StoreSettingsAsync();

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string>
        {
            ["Limits__MaxInputChars"] = MaxInputChars.ToString(),
            ["Leases__Duration"] = Lease.ToString("c"),
            ["Leases__ReaperInterval"] = "00:00:00.250",
        };
        foreach (var (key, value) in await StoreSettingsAsync()) settings[key] = value;
        Stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [], TaskServiceSettings = settings });
        sinkChannel = GrpcChannel.ForAddress(Stack.ResultSinkUrl);
        Sink = new ResultSinkService.ResultSinkServiceClient(sinkChannel);
    }

    /// <summary>Bearer header for the ResultSink.</summary>
    public Metadata Auth => new() { { "authorization", $"Bearer {Stack.Token}" } };

    public async Task<LcsTask> SubmitAsync(string a, string b, string key = "", LcsAlgorithm algorithm = LcsAlgorithm.Unspecified) =>
        (await Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = a, TextB = b, IdempotencyKey = key, Algorithm = algorithm },
            deadline: DateTime.UtcNow.AddSeconds(30))).Task;

    public virtual async Task DisposeAsync()
    {
        sinkChannel?.Dispose();
        if (Stack is not null) await Stack.DisposeAsync();
    }
}

/// <summary>task-service on its own SQLite file (the stack's default).</summary>
public sealed class SqliteTaskServiceFixture : TaskServiceFixture
{
    protected override Task<IReadOnlyDictionary<string, string>> StoreSettingsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());
}

/// <summary>
/// task-service on a database of its own on the test run's PostgreSQL server. It holds the
/// server's fixture too, so the server stops only after the process that uses it (two collection
/// fixtures are disposed in no promised order).
/// </summary>
public sealed class PostgresTaskServiceFixture : TaskServiceFixture
{
    private readonly PostgresServerFixture server = new();
    private string? connectionString;

    protected override async Task<IReadOnlyDictionary<string, string>> StoreSettingsAsync()
    {
        await server.InitializeAsync();
        connectionString = await server.Server.CreateDatabaseAsync("taskservice");
        return PostgresTaskStore.Settings(connectionString);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (connectionString is not null) await server.Server.DropDatabaseAsync(connectionString);
        await server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TaskServiceCollection : ICollectionFixture<SqliteTaskServiceFixture>
{
    public const string Name = "task-service process";
}

/// <summary>
/// Every test on PostgreSQL: the run's server is started once, before the first, and stopped
/// after the last (a stopped shared server does not start again, so there is one such collection).
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresTaskServiceFixture>, ICollectionFixture<PostgresInProcessTaskService>
{
    public const string Name = "postgres";
}
