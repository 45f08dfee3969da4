using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The embedded engine: one file in WAL mode, one replica, one writer. Its single writer already
/// serializes everything, so row locks and round locks are no-ops.
/// </summary>
internal sealed class SqliteDialect(string connectionString) : StoreDialect
{
    public override void AddContexts(IServiceCollection services)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true };
        services.AddPooledDbContextFactory<SqliteTasksDbContext>(o => o
            .UseSqlite(builder.ToString())
            .AddInterceptors(new SqlitePragmas()));
        services.AddSingleton<IDbContextFactory<TasksDbContext>, TasksDbContextFactory<SqliteTasksDbContext>>();
    }

    public override async Task MigrateAsync(TasksDbContext db, CancellationToken cancellationToken)
    {
        var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
        var folder = Path.GetDirectoryName(Path.GetFullPath(file));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        await db.Database.MigrateAsync(cancellationToken);
        // WAL lets readers run beside the single writer; it sticks to the file once set.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }

    internal override Func<long> PrepareStamp(Func<string, DbCommand> prepare)
    {
        var stampRows = prepare(ChangeStamp.StampRows);
        var advance = prepare(ChangeStamp.Advance);
        var read = prepare(ChangeStamp.Read);
        // Stamping first and advancing only when it stamped something keeps an empty commit at one statement.
        return () => (long)(stampRows.ExecuteNonQuery() > 0 ? advance : read).ExecuteScalar()!;
    }

    internal override string ForUpdateClause => "";

    internal override string SkipLockedClause => "";

    internal override Task<bool> TryLockRoundAsync(DbConnection connection, long round, CancellationToken cancellationToken) => Task.FromResult(true);

    internal override bool IsTransient(Exception error) => false;
}
