using CeleryKube.TaskService.Background;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// The task store and its background loops in this process, on a private SQLite file and a fake
/// clock, so lease and retention rules are tested by moving time instead of waiting for it.
/// </summary>
public sealed class InProcessStore : IAsyncDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "celerykube-store-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider services;
    private readonly List<IHostedService> started = [];

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    public TaskStore Store => services.GetRequiredService<TaskStore>();
    public TaskReader Reader => services.GetRequiredService<TaskReader>();
    public TaskChangeFeed ChangeFeed => services.GetRequiredService<TaskChangeFeed>();
    public T Get<T>() where T : notnull => services.GetRequiredService<T>();

    private InProcessStore(LeasesOptions leases, RetentionOptions retention)
    {
        Directory.CreateDirectory(folder);
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton<TimeProvider>(Time);
        collection.AddTaskStore(new ConnectionStringsOptions { Tasks = $"Data Source={Path.Combine(folder, "tasks.db")}" });
        collection.AddSingleton(Microsoft.Extensions.Options.Options.Create(leases));
        collection.AddSingleton(Microsoft.Extensions.Options.Options.Create(retention));
        collection.AddSingleton<LeaseReaper>();
        collection.AddSingleton<RetentionSweeper>();
        services = collection.BuildServiceProvider();
    }

    public static async Task<InProcessStore> StartAsync(LeasesOptions? leases = null, RetentionOptions? retention = null)
    {
        var store = new InProcessStore(leases ?? new LeasesOptions(), retention ?? new RetentionOptions());
        await store.services.MigrateTaskStoreAsync();
        await store.StartAsync<TaskStoreWriter>();
        await store.ChangeFeed.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        return store;
    }

    /// <summary>Starts a hosted service of the store (its writer, the reaper, the sweeper).</summary>
    public async Task StartAsync<T>() where T : IHostedService
    {
        var service = services.GetRequiredService<T>();
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
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
