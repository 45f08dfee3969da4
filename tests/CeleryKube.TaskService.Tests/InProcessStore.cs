using CeleryKube.TaskService.Api;
using CeleryKube.TaskService.Background;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using CeleryKube.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// The task store, its background loops and the watch broadcast in this process, on a fake clock, so lease and
/// retention rules are tested by moving time instead of waiting for it. On SQLite a private file;
/// on PostgreSQL a fresh database on the test run's server, or (for replica tests) the database of
/// another <see cref="InProcessStore"/>, which then plays a second replica with the same clock.
/// </summary>
public sealed class InProcessStore : IAsyncDisposable
{
    private readonly ServiceProvider services;
    private readonly List<IHostedService> started = [];
    private readonly bool ownsDatabase;

    public StoreProvider Provider { get; }
    public string ConnectionString { get; }
    public FakeTimeProvider Time { get; }
    public TaskStore Store => services.GetRequiredService<TaskStore>();
    public TaskReader Reader => services.GetRequiredService<TaskReader>();
    public TaskChangeFeed ChangeFeed => services.GetRequiredService<TaskChangeFeed>();
    public T Get<T>() where T : notnull => services.GetRequiredService<T>();

    private InProcessStore(StoreProvider provider, string connectionString, bool ownsDatabase, FakeTimeProvider time, LeasesOptions leases,
        RetentionOptions retention)
    {
        Provider = provider;
        ConnectionString = connectionString;
        this.ownsDatabase = ownsDatabase;
        Time = time;
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton<TimeProvider>(Time);
        collection.AddTaskStore(new ConnectionStringsOptions { Tasks = connectionString }, new TaskStoreOptions { Provider = provider.ToString() });
        collection.AddSingleton(Microsoft.Extensions.Options.Options.Create(leases));
        collection.AddSingleton(Microsoft.Extensions.Options.Options.Create(retention));
        collection.AddSingleton<LeaseReaper>();
        collection.AddSingleton<RetentionSweeper>();
        collection.AddSingleton(Microsoft.Extensions.Options.Options.Create(new LimitsOptions()));
        collection.AddSingleton<TaskWatchBroadcast>();
        collection.AddHostedService(sp => sp.GetRequiredService<TaskWatchBroadcast>());
        services = collection.BuildServiceProvider();
    }

    /// <summary>A store on a fresh database of <paramref name="provider"/>.</summary>
    public static async Task<InProcessStore> StartAsync(StoreProvider provider, LeasesOptions? leases = null, RetentionOptions? retention = null)
    {
        string connectionString;
        if (provider == StoreProvider.Postgres)
            connectionString = await (await PrivatePostgres.SharedAsync()).CreateDatabaseAsync("store");
        else
            connectionString = $"Data Source={Path.Combine(Path.GetTempPath(), "celerykube-store-" + Guid.NewGuid().ToString("N"), "tasks.db")}";
        return await StartAsync(new InProcessStore(provider, connectionString, ownsDatabase: true,
            new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z")), leases ?? new LeasesOptions(), retention ?? new RetentionOptions()));
    }

    /// <summary>A store on an existing database it does not own (several may start on it at once).</summary>
    public static Task<InProcessStore> StartOnAsync(StoreProvider provider, string connectionString) =>
        StartAsync(new InProcessStore(provider, connectionString, ownsDatabase: false, new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z")),
            new LeasesOptions(), new RetentionOptions()));

    /// <summary>Another replica on this store's database, on the same clock.</summary>
    public Task<InProcessStore> StartReplicaAsync(LeasesOptions? leases = null, RetentionOptions? retention = null) =>
        StartAsync(new InProcessStore(Provider, ConnectionString, ownsDatabase: false, Time, leases ?? new LeasesOptions(),
            retention ?? new RetentionOptions()));

    private static async Task<InProcessStore> StartAsync(InProcessStore store)
    {
        try
        {
            await store.services.MigrateTaskStoreAsync();
            // The writer, and on PostgreSQL the listener for other replicas' commits.
            foreach (var service in store.services.GetServices<IHostedService>()) await store.StartAsync(service);
            await store.ChangeFeed.Ready.WaitAsync(TimeSpan.FromSeconds(30));
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a hosted service of the store (the reaper, the sweeper).</summary>
    public Task StartAsync<T>() where T : IHostedService => StartAsync(services.GetRequiredService<T>());

    private async Task StartAsync(IHostedService service)
    {
        await service.StartAsync(CancellationToken.None);
        started.Add(service);
    }

    /// <summary>Stops the writer (and everything started after it) as a shutting-down service would.</summary>
    public async Task StopAsync()
    {
        foreach (var service in Enumerable.Reverse(started)) await service.StopAsync(CancellationToken.None);
        started.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await services.DisposeAsync();
        if (Provider == StoreProvider.Sqlite) Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!ownsDatabase) return;
        if (Provider == StoreProvider.Sqlite)
        {
            var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource;
            RepoPaths.DeleteTempFolder(Path.GetDirectoryName(file)!);
        }
        else
        {
            await (await PrivatePostgres.SharedAsync()).DropDatabaseAsync(ConnectionString);
        }
    }
}
