using CeleryKube.TaskService.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CeleryKube.TaskService.Persistence;

/// <summary>Registers the task store on the configured engine and brings its schema up to date at start-up.</summary>
public static class TaskStoreSetup
{
    /// <summary>Adds the DbContext factory, the single writer, the store's commands and reads, and the change feed.</summary>
    public static IServiceCollection AddTaskStore(this IServiceCollection services, ConnectionStringsOptions connectionStrings,
        TaskStoreOptions? store = null)
    {
        var dialect = StoreDialect.For(store ?? new TaskStoreOptions(), connectionStrings);
        services.AddSingleton(dialect);
        dialect.AddContexts(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TaskChangeFeed>();
        services.AddSingleton<TaskStoreWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskStoreWriter>());
        services.AddSingleton(sp => new TaskStore(sp.GetRequiredService<TaskStoreWriter>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<TaskReader>();
        return services;
    }

    /// <summary>Applies pending EF Core migrations of the configured engine (creating a SQLite file's folder first).</summary>
    public static async Task MigrateTaskStoreAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<TasksDbContext>>();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await services.GetRequiredService<StoreDialect>().MigrateAsync(db, cancellationToken);
    }
}
