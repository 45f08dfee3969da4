using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace CeleryKube.TaskService.Persistence;

/// <summary>Lets <c>dotnet ef migrations add --context SqliteTasksDbContext</c> build the model without starting the service.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteTasksDbContext>
{
    /// <inheritdoc />
    public SqliteTasksDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteTasksDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>Lets <c>dotnet ef migrations add --context PostgresTasksDbContext</c> build the model (it connects to nothing).</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresTasksDbContext>
{
    /// <inheritdoc />
    public PostgresTasksDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresTasksDbContext>().UseNpgsql("Host=127.0.0.1;Database=design-time").Options);
}
