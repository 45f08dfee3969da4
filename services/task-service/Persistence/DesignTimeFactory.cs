using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace CeleryKube.TaskService.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the service.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<TasksDbContext>
{
    /// <inheritdoc />
    public TasksDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<TasksDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
