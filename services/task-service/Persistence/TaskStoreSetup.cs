using CeleryKube.TaskService.Options;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CeleryKube.TaskService.Persistence;

/// <summary>Registers the task store and brings its schema up to date at start-up.</summary>
public static class TaskStoreSetup
{
    /// <summary>Adds the DbContext factory, the single writer, the store's commands and reads, and the change feed.</summary>
    public static IServiceCollection AddTaskStore(this IServiceCollection services, ConnectionStringsOptions connectionStrings)
    {
        var builder = new SqliteConnectionStringBuilder(connectionStrings.Tasks) { Pooling = true };
        services.AddPooledDbContextFactory<TasksDbContext>(o => o
            .UseSqlite(builder.ToString())
            .AddInterceptors(new SqlitePragmas()));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TaskChangeFeed>();
        services.AddSingleton<TaskStoreWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskStoreWriter>());
        services.AddSingleton(sp => new TaskStore(sp.GetRequiredService<TaskStoreWriter>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<TaskReader>();
        return services;
    }

    /// <summary>Creates the database folder and applies pending EF Core migrations.</summary>
    public static async Task MigrateTaskStoreAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<TasksDbContext>>();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
        var folder = Path.GetDirectoryName(Path.GetFullPath(file));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        await db.Database.MigrateAsync(cancellationToken);
        // WAL lets readers run beside the single writer; it sticks to the file once set.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }
}
