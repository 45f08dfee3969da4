using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// task-service hosted in the test process (ASP.NET Core's TestServer) with gRPC clients over the
/// test server's handler, against a private RabbitMQ node (task-service accepts no task while the
/// broker is away): the API's rules (validation, paging, cancel and delete, ResultSink reports)
/// without building, starting and stopping a task-service process. What only real processes show
/// (restarts, ports, the lease reaper's timing, metrics) stays in <see cref="TaskServiceApiTests"/>.
/// </summary>
public abstract class InProcessTaskService : WebApplicationFactory<Program>, IAsyncLifetime
{
    /// <summary>The input limit, small so oversize inputs are cheap.</summary>
    public const int MaxInputChars = 5000;

    /// <summary>The header that tells the test server which task-service port a call came in on.</summary>
    private const string LocalPortHeader = "x-test-local-port";

    private readonly string folder = RepoPaths.NewTempFolder("task-service-in-process");
    private readonly string token = Guid.NewGuid().ToString("N");
    private readonly int publicPort = FreePorts.Next();
    private readonly int resultSinkPort = FreePorts.Next();
    private PrivateRabbitMq rabbit = null!;
    private GrpcChannel publicChannel = null!;
    private GrpcChannel sinkChannel = null!;
    private IReadOnlyDictionary<string, string> storeSettings = null!;

    public Protos.V1.TaskService.TaskServiceClient Tasks { get; private set; } = null!;

    public ResultSinkService.ResultSinkServiceClient Sink { get; private set; } = null!;

    /// <summary>Bearer header for the ResultSink.</summary>
    public Metadata Auth => new() { { "authorization", $"Bearer {token}" } };

    /// <summary>The store settings of this engine, as configuration keys (none for the default, SQLite).</summary>
    protected abstract Task<IReadOnlyDictionary<string, string>> StoreSettingsAsync();

    /// <summary>Lets go of the engine's store after the host stopped.</summary>
    protected virtual Task ReleaseStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        storeSettings = await StoreSettingsAsync();
        rabbit = await PrivateRabbitMq.StartAsync();
        publicChannel = Channel(publicPort);
        sinkChannel = Channel(resultSinkPort);
        Tasks = new Protos.V1.TaskService.TaskServiceClient(publicChannel);
        Sink = new ResultSinkService.ResultSinkServiceClient(sinkChannel);
        var broker = Services.GetRequiredService<Messaging.BrokerConnection>();
        await Eventually.True(() => Task.FromResult(broker.IsOpen), TimeSpan.FromSeconds(60), "task-service to connect to RabbitMQ");
    }

    public async Task<LcsTask> SubmitAsync(string a, string b, string key = "", LcsAlgorithm algorithm = LcsAlgorithm.Unspecified) =>
        (await Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = a, TextB = b, IdempotencyKey = key, Algorithm = algorithm })).Task;

    private GrpcChannel Channel(int port) => GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = new OnPort(port) { InnerHandler = Server.CreateHandler() },
        MaxReceiveMessageSize = null,
        MaxSendMessageSize = null,
    });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Tasks", $"Data Source={Path.Combine(folder, "tasks.db")}");
        foreach (var (key, value) in storeSettings) builder.UseSetting(key.Replace("__", ":", StringComparison.Ordinal), value);
        builder.UseSetting("ResultSink:Token", token);
        builder.UseSetting("Limits:MaxInputChars", MaxInputChars.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("TaskService:PublicPort", publicPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("TaskService:ResultSinkPort", resultSinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("RabbitMq:Uri", rabbit.Uri);
        builder.ConfigureServices(services => services.AddTransient<IStartupFilter, LocalPortFromHeader>());
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        publicChannel.Dispose();
        sinkChannel.Dispose();
        await base.DisposeAsync();
        await ReleaseStoreAsync();
        await rabbit.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        RepoPaths.DeleteTempFolder(folder);
    }

    /// <summary>Marks each call with the port it stands for; TestServer connections have none.</summary>
    private sealed class OnPort(int port) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add(LocalPortHeader, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Sets the connection's local port from the header before routing, so port restrictions apply as on Kestrel.</summary>
    private sealed class LocalPortFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (int.TryParse(context.Request.Headers[LocalPortHeader], out var port)) context.Connection.LocalPort = port;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// <summary>In process on a SQLite file of its own.</summary>
public sealed class SqliteInProcessTaskService : InProcessTaskService
{
    protected override Task<IReadOnlyDictionary<string, string>> StoreSettingsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());
}

/// <summary>
/// In process on a database of its own on the run's PostgreSQL server (in <see cref="PostgresCollection"/>,
/// whose other fixture stops the server; a database gone with it needs no dropping).
/// </summary>
public sealed class PostgresInProcessTaskService : InProcessTaskService
{
    private string? connectionString;

    protected override async Task<IReadOnlyDictionary<string, string>> StoreSettingsAsync()
    {
        connectionString = await (await PrivatePostgres.SharedAsync()).CreateDatabaseAsync("inprocess");
        return PostgresTaskStore.Settings(connectionString);
    }

    protected override async Task ReleaseStoreAsync()
    {
        if (connectionString is null) return;
        try
        {
            await (await PrivatePostgres.SharedAsync()).DropDatabaseAsync(connectionString);
        }
        catch (Npgsql.NpgsqlException)
        {
            // The server already stopped after the collection's last test.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InProcessTaskServiceCollection : ICollectionFixture<SqliteInProcessTaskService>
{
    public const string Name = "task-service in process";
}
