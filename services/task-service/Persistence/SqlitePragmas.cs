using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Per-connection SQLite settings (WAL itself is a property of the file, set once at start-up by
/// <see cref="TaskStoreSetup"/>: repeating it on every open cost about 2 ms per write). synchronous=FULL
/// makes every commit durable against power loss (commits are grouped, so the fsync is shared);
/// busy_timeout rides out the WAL checkpoint. temp_store=MEMORY keeps the statement journal of
/// each write command's savepoint in memory: in a temp file it was opened for every transaction
/// and took about 10,000 page writes a second under load.
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    /// <summary>The statements run on every opened connection.</summary>
    public const string Statements = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";

    /// <inheritdoc />
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    /// <inheritdoc />
    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Statements;
        command.ExecuteNonQuery();
    }
}
