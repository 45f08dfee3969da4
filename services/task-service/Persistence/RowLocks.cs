using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Query tags that ask for row locks: a command that reads a task to decide its next state must
/// hold it until commit, or two replicas deciding at once would both win (two claims of one task).
/// On SQLite the tag is only a comment (its one writer already serializes); on PostgreSQL
/// <see cref="PostgresRowLocks"/> turns it into the locking clause. Only for single-table queries.
/// </summary>
internal static class RowLocks
{
    /// <summary>Lock the rows read until commit, waiting for another transaction's lock.</summary>
    public const string ForUpdate = "lock: for update";

    /// <summary>Lock the rows read until commit, leaving out rows another transaction holds.</summary>
    public const string ForUpdateSkipLocked = "lock: for update skip locked";
}

/// <summary>Appends the locking clause a query's <see cref="RowLocks"/> tag asks for.</summary>
internal sealed class PostgresRowLocks : DbCommandInterceptor
{
    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        AddClause(command);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        AddClause(command);
        return ValueTask.FromResult(result);
    }

    private static void AddClause(DbCommand command)
    {
        // EF writes tags as leading "-- tag" comment lines.
        if (command.CommandText.StartsWith("-- " + RowLocks.ForUpdateSkipLocked + "\n", StringComparison.Ordinal))
            command.CommandText += "\n" + PostgresDialect.ForUpdateSkipLocked;
        else if (command.CommandText.StartsWith("-- " + RowLocks.ForUpdate + "\n", StringComparison.Ordinal))
            command.CommandText += "\n" + PostgresDialect.ForUpdate;
    }
}
