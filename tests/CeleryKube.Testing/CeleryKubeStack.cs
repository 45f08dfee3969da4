using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using Grpc.Net.Client;

namespace CeleryKube.Testing;

/// <summary>What a test wants running.</summary>
public sealed record StackOptions
{
    /// <summary>Workers to start: queue ("small"/"large") and concurrency.</summary>
    public IReadOnlyList<(string Queue, int Concurrency)> Workers { get; init; } = [("small", 2), ("large", 2)];

    /// <summary>Extra settings for task-service (e.g. <c>Leases__Duration</c>).</summary>
    public IReadOnlyDictionary<string, string> TaskServiceSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra settings for every worker.</summary>
    public IReadOnlyDictionary<string, string> WorkerSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra settings for the frontend (e.g. <c>Auth__*</c>).</summary>
    public IReadOnlyDictionary<string, string> FrontendSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Also start the web frontend.</summary>
    public bool WithFrontend { get; init; }

    /// <summary>
    /// A RabbitMQ cluster to use (through <c>RabbitMq__Endpoints</c>) instead of a private node of
    /// the stack's own. The stack does not stop it: clusters live for the whole test run.
    /// </summary>
    public PrivateRabbitMqCluster? Cluster { get; init; }

    /// <summary>
    /// An Npgsql connection string: task-service keeps its store in that PostgreSQL database
    /// (<c>TaskStore__Provider=Postgres</c>) instead of a SQLite file in the stack's folder. When
    /// not set and the environment says <c>CELERYKUBE_TEST_STORE=Postgres</c> (scripts/test runs
    /// the integration suite once per store), the stack makes a database of its own on the run's
    /// shared PostgreSQL server and drops it when disposed.
    /// </summary>
    public string? Postgres { get; init; }

    /// <summary>
    /// How many task-service processes to run (more than one needs <see cref="Postgres"/>). Workers
    /// and <see cref="CeleryKubeStack.Tasks"/> reach them through a <see cref="LoopbackBalancer"/>.
    /// </summary>
    public int TaskServiceReplicas { get; init; } = 1;
}

/// <summary>
/// The whole system as real processes on free loopback ports: a private RabbitMQ node (or a shared
/// cluster), task-service with its SQLite file (or several replicas on one PostgreSQL database),
/// workers and optionally the frontend. Dispose stops all it started.
/// </summary>
public sealed class CeleryKubeStack : IAsyncDisposable
{
    private readonly StackOptions options;
    private readonly List<ServiceProcess> workers = [];

    private readonly PrivateRabbitMq? rabbit;
    private readonly LoopbackBalancer? publicBalancer;
    private readonly LoopbackBalancer? resultSinkBalancer;
    private string? ownDatabase;

    private CeleryKubeStack(StackOptions options, PrivateRabbitMq? rabbit, string folder)
    {
        if (options.TaskServiceReplicas > 1 && options.Postgres is null)
            throw new ArgumentException("several task-service replicas need a shared store: set StackOptions.Postgres", nameof(options));
        this.options = options;
        this.rabbit = rabbit;
        Folder = folder;
        Token = Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string>(CommonSettings());
        if (options.Postgres is null)
        {
            settings["ConnectionStrings__Tasks"] = $"Data Source={Path.Combine(folder, "tasks.db")}";
        }
        else
        {
            foreach (var (key, value) in PostgresTaskStore.Settings(options.Postgres)) settings[key] = value;
        }
        foreach (var (key, value) in options.TaskServiceSettings) settings[key] = value;
        Replicas = Enumerable.Range(1, options.TaskServiceReplicas)
            .Select(n => new TaskServiceReplica(options.TaskServiceReplicas == 1 ? "task-service" : $"task-service-{n}", folder, settings))
            .ToList();
        if (Replicas.Count > 1)
        {
            publicBalancer = new LoopbackBalancer(Replicas.Select(r => r.PublicPort).ToList());
            resultSinkBalancer = new LoopbackBalancer(Replicas.Select(r => r.ResultSinkPort).ToList());
        }
        Channel = GrpcChannel.ForAddress(PublicUrl, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
        Tasks = new TaskService.TaskServiceClient(Channel);
    }

    /// <summary>The stack's own broker node (not available on a stack using <see cref="StackOptions.Cluster"/>).</summary>
    public PrivateRabbitMq Rabbit => rabbit ?? throw new InvalidOperationException("this stack uses a RabbitMQ cluster: see StackOptions.Cluster");
    /// <summary>The stack's private folder (database, logs).</summary>
    public string Folder { get; }
    /// <summary>The ResultSink bearer token of this stack.</summary>
    public string Token { get; }
    /// <summary>The task-service processes (one unless <see cref="StackOptions.TaskServiceReplicas"/> says more).</summary>
    public IReadOnlyList<TaskServiceReplica> Replicas { get; }
    /// <summary>TaskService gRPC port: the only replica's, or the balancer's in front of several.</summary>
    public int PublicPort => publicBalancer?.Port ?? Replicas[0].PublicPort;
    /// <summary>ResultSink gRPC port: the only replica's, or the balancer's in front of several.</summary>
    public int ResultSinkPort => resultSinkBalancer?.Port ?? Replicas[0].ResultSinkPort;
    /// <summary>The first replica's metrics port.</summary>
    public int MetricsPort => Replicas[0].MetricsPort;
    /// <summary>The first replica's JSON-over-HTTP/1.1 port (gRPC JSON transcoding).</summary>
    public int HttpApiPort => Replicas[0].HttpApiPort;
    /// <summary>http://127.0.0.1:PublicPort.</summary>
    public string PublicUrl => $"http://127.0.0.1:{PublicPort}";
    /// <summary>http://127.0.0.1:ResultSinkPort.</summary>
    public string ResultSinkUrl => $"http://127.0.0.1:{ResultSinkPort}";
    /// <summary>task-service (the first replica's process).</summary>
    public ServiceProcess TaskService => Replicas[0].Process;
    /// <summary>The workers started so far.</summary>
    public IReadOnlyList<ServiceProcess> Workers => workers;
    /// <summary>The frontend, when asked for.</summary>
    public ServiceProcess? Frontend { get; private set; }
    /// <summary>The frontend's base URL, when started.</summary>
    public string? FrontendUrl { get; private set; }
    /// <summary>A channel to the public port.</summary>
    public GrpcChannel Channel { get; }
    /// <summary>A TaskService client.</summary>
    public TaskService.TaskServiceClient Tasks { get; }

    /// <summary>Starts everything <paramref name="options"/> asks for and waits until it is ready.</summary>
    public static async Task<CeleryKubeStack> StartAsync(StackOptions? options = null)
    {
        options ??= new StackOptions();
        string? ownDatabase = null;
        if (options.Postgres is null && Environment.GetEnvironmentVariable(StoreVariable) == "Postgres")
        {
            ownDatabase = await (await PrivatePostgres.SharedAsync()).CreateDatabaseAsync("stack");
            options = options with { Postgres = ownDatabase };
        }
        var rabbit = options.Cluster is null ? await PrivateRabbitMq.StartAsync() : null;
        var folder = RepoPaths.NewTempFolder("stack");
        // A program stopped by a signal never disposes its stack: its folder goes when it exits.
        ProcessJanitor.OnExit(() => RepoPaths.DeleteTempFolder(folder));
        var stack = new CeleryKubeStack(options, rabbit, folder) { ownDatabase = ownDatabase };
        try
        {
            // All at once, as a Deployment's pods start: each replica migrates the empty database at start.
            await Task.WhenAll(stack.Replicas.Select(r => r.StartAsync()));
            foreach (var (queue, concurrency) in options.Workers) await stack.StartWorkerAsync(queue, concurrency);
            if (options.WithFrontend) await stack.StartFrontendAsync();
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts (or restarts) task-service (the first replica) and waits until it is connected to the broker.</summary>
    public Task StartTaskServiceAsync() => Replicas[0].StartAsync();

    /// <summary>
    /// The worker setting for the level of its quick-path result lines. The stack sets it to Debug
    /// (each result logged, for <see cref="AppliedResults"/>); a deployed worker does not log them.
    /// </summary>
    public const string QuickResultLogLevel = "Logging__LogLevel__CeleryKube.Worker.Consuming.JobHandler";

    /// <summary>Starts a worker on <paramref name="queue"/> and waits until it consumes.</summary>
    public async Task<ServiceProcess> StartWorkerAsync(string queue, int concurrency, IReadOnlyDictionary<string, string>? settings = null)
    {
        var index = workers.Count + 1;
        var env = new Dictionary<string, string>(CommonSettings())
        {
            ["Worker__Queue"] = queue,
            ["Worker__Concurrency"] = concurrency.ToString(),
            ["Worker__Id"] = $"worker-{queue}-{index}",
            ["Worker__ControlPort"] = FreePorts.Next().ToString(),
            ["Worker__MetricsPort"] = FreePorts.Next().ToString(),
            // Quick-path results are logged at Debug; AppliedResults counts them to find duplicates.
            [QuickResultLogLevel] = "Debug",
            ["ResultSink__Url"] = ResultSinkUrl,
        };
        foreach (var (key, value) in options.WorkerSettings) env[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) env[key] = value;
        var worker = new ServiceProcess($"worker-{queue}-{index}", RepoPaths.ServiceDll("services/worker", "CeleryKube.Worker"),
            Path.Combine(Folder, $"worker-{queue}-{index}"), env);
        workers.Add(worker);
        await worker.StartAsync($"consuming lcs.{queue}");
        return worker;
    }

    /// <summary>Starts the frontend on a free port and waits until it serves.</summary>
    public async Task StartFrontendAsync()
    {
        var port = FreePorts.Next();
        var env = new Dictionary<string, string>(CommonSettings())
        {
            ["Frontend__Port"] = port.ToString(),
            ["Frontend__TaskServiceUrl"] = PublicUrl,
        };
        foreach (var (key, value) in options.FrontendSettings) env[key] = value;
        Frontend = new ServiceProcess("frontend", RepoPaths.ServiceDll("frontend", "CeleryKube.Frontend"), Path.Combine(Folder, "frontend"), env);
        FrontendUrl = $"http://127.0.0.1:{port}";
        await Frontend.StartAsync("Application started");
    }

    /// <summary>Polls GetTask until <paramref name="done"/> holds for the task.</summary>
    public Task<LcsTask> WaitForTaskAsync(string id, Func<LcsTask, bool> done, TimeSpan timeout, string what) =>
        Eventually.Until(async () =>
        {
            var task = (await Tasks.GetTaskAsync(new GetTaskRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(10))).Task;
            return done(task) ? task : null;
        }, timeout, $"task {id} to be {what}");

    /// <summary>Waits until the task reaches a final state.</summary>
    public Task<LcsTask> WaitForFinalAsync(string id, TimeSpan? timeout = null) =>
        WaitForTaskAsync(id, t => t.State.IsFinal(),
            timeout ?? TimeSpan.FromSeconds(60), "finished");

    /// <summary>Everything the processes printed, for failure messages.</summary>
    public string Logs() => string.Join("\n", Replicas.Select(r => r.Process).Concat(workers).Append(Frontend)
        .Where(p => p is not null).Select(p => $"--- {p!.Name}\n{p.Tail(60)}"));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (Frontend is not null) await Frontend.DisposeAsync();
        foreach (var worker in workers) await worker.DisposeAsync();
        foreach (var replica in Replicas) await replica.DisposeAsync();
        if (publicBalancer is not null) await publicBalancer.DisposeAsync();
        if (resultSinkBalancer is not null) await resultSinkBalancer.DisposeAsync();
        if (rabbit is not null) await rabbit.DisposeAsync();
        if (ownDatabase is not null) await (await PrivatePostgres.SharedAsync()).DropDatabaseAsync(ownDatabase);
        // Failure messages carry the services' output (Logs()); the folder's database and log files go.
        RepoPaths.DeleteTempFolder(Folder);
    }

    /// <summary>The environment variable that puts stacks which do not choose a store on PostgreSQL.</summary>
    public const string StoreVariable = "CELERYKUBE_TEST_STORE";

    private Dictionary<string, string> CommonSettings()
    {
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["RabbitMq__Uri"] = options.Cluster?.Uri ?? Rabbit.Uri,
            ["ResultSink__Token"] = Token,
            ["Listen__Address"] = "127.0.0.1",
        };
        if (options.Cluster is not null) settings["RabbitMq__Endpoints"] = options.Cluster.Endpoints;
        return settings;
    }
}
