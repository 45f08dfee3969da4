using System.Data;
using System.Data.Common;
using CeleryKube.TaskService.Domain;
using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The hot path's SQL, prepared once on the writer's connection: a savepoint per command, the
/// inserts of a submit, loading a task without change tracking and writing its state back in one
/// statement with one history row per state change (every command that changes a task's state
/// saves it through <see cref="Save"/>, so its history is written in the same transaction). Cold commands (reaper, sweeper, deletes, heartbeats) use EF Core as usual.
/// The text runs unchanged on SQLite and PostgreSQL (quoted identifiers, <c>@</c> parameters with
/// their types, <c>ON CONFLICT</c>, <c>RETURNING</c>); only the change stamp is the dialect's.
/// </summary>
internal sealed class WriteStatements : IDisposable
{
    private readonly DbCommand savepoint;
    private readonly DbCommand release;
    private readonly DbCommand rollback;
    private readonly DbCommand insertTask;
    private readonly DbCommand insertInput;
    private readonly DbCommand insertOutbox;
    private readonly DbCommand updateTask;
    private readonly DbCommand confirmTask;
    private readonly DbCommand deleteOutbox;
    private readonly DbCommand insertHistory;
    private readonly DbCommand insertConfirmHistory;
    private readonly DbCommand readSeq;
    private readonly Func<long> stamp;
    private readonly List<DbCommand> all = [];

    private readonly DbCommand findTask;

    public WriteStatements(DbConnection connection, StoreDialect dialect)
    {
        const DbType text = DbType.String, int32 = DbType.Int32, int64 = DbType.Int64;
        savepoint = Prepare(connection, "SAVEPOINT command");
        release = Prepare(connection, "RELEASE SAVEPOINT command");
        rollback = Prepare(connection, "ROLLBACK TO SAVEPOINT command");
        // A second submission with the same key inserts nothing (on PostgreSQL it first waits for
        // the other transaction holding that key to end); the caller then reads the winner's task.
        insertTask = Prepare(connection, """
            INSERT INTO tasks ("Id", "State", "Queue", "Algorithm", "TextALength", "TextBLength", "Attempts", "CreatedAtMs", "UpdatedAtMs",
                "ChangeSeq", "Progress", "CancelRequested", "IdempotencyKey")
            VALUES (@id, @state, @queue, @algorithm, @a, @b, 0, @now, @now, 0, 0, FALSE, @key)
            ON CONFLICT ("IdempotencyKey") DO NOTHING
            """, ("id", text), ("state", int32), ("queue", int32), ("algorithm", int32), ("a", int32), ("b", int32), ("now", int64), ("key", text));
        insertInput = Prepare(connection, """INSERT INTO task_inputs ("TaskId", "TextA", "TextB") VALUES (@id, @a, @b)""",
            ("id", text), ("a", text), ("b", text));
        insertOutbox = Prepare(connection, """
            INSERT INTO outbox ("TaskId", "CreatedAtMs", "TraceParent", "ClaimedBy", "ClaimedUntilMs")
            VALUES (@id, @now, @trace, @by, @until) RETURNING "Id"
            """, ("id", text), ("now", int64), ("trace", text), ("by", text), ("until", int64));
        updateTask = Prepare(connection, """
            UPDATE tasks SET "State" = @state, "Attempts" = @attempts, "WorkerId" = @worker, "StartedAtMs" = @started,
                "FinishedAtMs" = @finished, "UpdatedAtMs" = @updated, "Progress" = @progress, "ResultLength" = @length,
                "ResultSubstring" = @substring, "ResultOffsetA" = @offsetA, "ResultOffsetB" = @offsetB, "Error" = @error,
                "CancelRequested" = @cancel, "LeaseExpiresAtMs" = @lease, "ClaimTokenHash" = @claim, "Retries" = @retries
            WHERE "Id" = @id
            """, ("state", int32), ("attempts", int32), ("worker", text), ("started", int64), ("finished", int64), ("updated", int64),
            ("progress", DbType.Double), ("length", int32), ("substring", text), ("offsetA", int32), ("offsetB", int32), ("error", text),
            ("cancel", DbType.Boolean), ("lease", int64), ("claim", text), ("retries", int32), ("id", text));
        insertHistory = Prepare(connection, """
            INSERT INTO task_history ("TaskId", "State", "AtMs", "Attempt", "WorkerId", "Note") VALUES (@id, @state, @at, @attempt, @worker, @note)
            """, ("id", text), ("state", int32), ("at", int64), ("attempt", int32), ("worker", text), ("note", text));
        // The confirm is a blind UPDATE; its history row takes the attempt count from the row it changed.
        insertConfirmHistory = Prepare(connection, """
            INSERT INTO task_history ("TaskId", "State", "AtMs", "Attempt", "WorkerId", "Note")
            SELECT "Id", @state, @at, "Attempts", NULL, @note FROM tasks WHERE "Id" = @id
            """, ("state", int32), ("at", int64), ("note", text), ("id", text));
        confirmTask = Prepare(connection, """UPDATE tasks SET "State" = @to, "UpdatedAtMs" = @now WHERE "Id" = @id AND "State" = @from""",
            ("to", int32), ("now", int64), ("id", text), ("from", int32));
        deleteOutbox = Prepare(connection, """DELETE FROM outbox WHERE "Id" = @id""", ("id", int64));
        // The row stays locked until commit on engines with row locks: the command decides from it.
        findTask = Prepare(connection, $"""
            SELECT "Id", "State", "Queue", "Algorithm", "TextALength", "TextBLength", "Attempts", "WorkerId", "CreatedAtMs", "StartedAtMs",
                "FinishedAtMs", "UpdatedAtMs", "ChangeSeq", "Progress", "ResultLength", "ResultSubstring", "ResultOffsetA", "ResultOffsetB",
                "Error", "IdempotencyKey", "CancelRequested", "LeaseExpiresAtMs", "ClaimTokenHash", "Retries"
            FROM tasks WHERE "Id" = @id {dialect.ForUpdateClause}
            """, ("id", text));
        readSeq = Prepare(connection, ChangeStamp.Read);
        stamp = dialect.PrepareStamp(sql => Prepare(connection, sql));
    }

    /// <summary>The change feed's latest sequence number.</summary>
    public long LastChangeSeq() => (long)readSeq.ExecuteScalar()!;

    /// <summary>Stamps this transaction's changes (see <see cref="ChangeStamp"/>); returns the feed's latest sequence number.</summary>
    public long StampChanges() => stamp();

    /// <summary>Enlists every statement in the writer's current transaction.</summary>
    public void Enlist(DbTransaction transaction)
    {
        foreach (var command in all) command.Transaction = transaction;
    }

    /// <summary>Opens the savepoint that one command runs under.</summary>
    public void BeginCommand() => savepoint.ExecuteNonQuery();

    /// <summary>Keeps what the command did (within the transaction).</summary>
    public void EndCommand() => release.ExecuteNonQuery();

    /// <summary>Undoes everything the command did, bulk statements included.</summary>
    public void UndoCommand()
    {
        rollback.ExecuteNonQuery();
        release.ExecuteNonQuery();
    }

    /// <summary>
    /// Inserts a new task, its texts and its outbox row (claimed by <paramref name="claimedBy"/>
    /// until <paramref name="claimedUntilMs"/>, for the in-memory hand-over); returns the outbox
    /// row's id, or null when a task with the same idempotency key exists (nothing is inserted).
    /// </summary>
    public long? InsertSubmitted(TaskRecord task, string textA, string textB, string? traceParent, string claimedBy, long claimedUntilMs)
    {
        Bind(insertTask, task.Id, (int)task.State, (int)task.Queue, (int)task.Algorithm, task.TextALength, task.TextBLength, task.CreatedAtMs,
            task.IdempotencyKey);
        if (insertTask.ExecuteNonQuery() == 0) return null;
        Bind(insertInput, task.Id, textA, textB);
        insertInput.ExecuteNonQuery();
        InsertHistory(task);
        Bind(insertOutbox, task.Id, task.CreatedAtMs, traceParent, claimedBy, claimedUntilMs);
        return (long)insertOutbox.ExecuteScalar()!;
    }

    /// <summary>The task as stored, or null (locked until commit where the engine has row locks).</summary>
    public TaskRecord? Find(string id)
    {
        Bind(findTask, id);
        using var row = findTask.ExecuteReader(CommandBehavior.SingleRow);
        if (!row.Read()) return null;
        return TaskRecord.Restore(row.GetString(0), (TaskState)row.GetInt32(1), (TaskQueue)row.GetInt32(2), (LcsAlgorithm)row.GetInt32(3),
            row.GetInt32(4), row.GetInt32(5), row.GetInt32(6), StringOrNull(row, 7), row.GetInt64(8), Int64OrNull(row, 9), Int64OrNull(row, 10),
            row.GetInt64(11), row.GetInt64(12), row.GetDouble(13), Int32OrNull(row, 14), StringOrNull(row, 15), Int32OrNull(row, 16),
            Int32OrNull(row, 17), StringOrNull(row, 18), StringOrNull(row, 19), row.GetBoolean(20), Int64OrNull(row, 21),
            StringOrNull(row, 22), row.GetInt32(23));
    }

    private static string? StringOrNull(DbDataReader row, int i) => row.IsDBNull(i) ? null : row.GetString(i);

    private static int? Int32OrNull(DbDataReader row, int i) => row.IsDBNull(i) ? null : row.GetInt32(i);

    private static long? Int64OrNull(DbDataReader row, int i) => row.IsDBNull(i) ? null : row.GetInt64(i);

    /// <summary>
    /// Writes back a task's state after a transition, and a history row for each state change it
    /// made (the triggers decide whether it is a visible change).
    /// </summary>
    public void Save(TaskRecord t)
    {
        Bind(updateTask, (int)t.State, t.Attempts, t.WorkerId, t.StartedAtMs, t.FinishedAtMs, t.UpdatedAtMs, t.Progress, t.ResultLength,
            t.ResultSubstring, t.ResultOffsetA, t.ResultOffsetB, t.Error, t.CancelRequested, t.LeaseExpiresAtMs, t.ClaimTokenHash, t.Retries, t.Id);
        updateTask.ExecuteNonQuery();
        InsertHistory(t);
    }

    private void InsertHistory(TaskRecord t)
    {
        foreach (var h in t.TakeHistory())
        {
            Bind(insertHistory, h.TaskId, (int)h.State, h.AtMs, h.Attempt, h.WorkerId, h.Note);
            insertHistory.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// The broker confirmed a task's message: the outbox row goes, a PENDING task becomes QUEUED.
    /// A row already gone (the task was retried meanwhile, which replaced it) confirms nothing.
    /// </summary>
    public void Confirm(long outboxId, string taskId, long nowMs)
    {
        if (DeleteOutbox(outboxId) == 0) return;
        var (from, to) = TaskRecord.BrokerConfirmMove;
        Bind(confirmTask, (int)to, nowMs, taskId, (int)from);
        if (confirmTask.ExecuteNonQuery() == 0) return;
        Bind(insertConfirmHistory, (int)to, nowMs, TaskRecord.BrokerConfirmNote, taskId);
        insertConfirmHistory.ExecuteNonQuery();
    }

    /// <summary>Removes an outbox row; returns how many rows went (0 or 1).</summary>
    public int DeleteOutbox(long outboxId)
    {
        Bind(deleteOutbox, outboxId);
        return deleteOutbox.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in all) command.Dispose();
    }

    private DbCommand Prepare(DbConnection connection, string sql, params (string Name, DbType Type)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters)
        {
            var parameter = command.CreateParameter();
            // With its prefix, Microsoft.Data.Sqlite finds the parameter in one lookup instead of four on every execution.
            parameter.ParameterName = "@" + name;
            parameter.DbType = type;
            command.Parameters.Add(parameter);
        }
        command.Prepare();
        all.Add(command);
        return command;
    }

    private static void Bind(DbCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
    }
}
