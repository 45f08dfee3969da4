using CeleryKube.TaskService.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The hot path's SQL, prepared once on the writer's connection: a savepoint per command, the
/// three inserts of a submit, loading a task without change tracking and writing its state back
/// in one statement. Cold commands (reaper, sweeper, deletes, heartbeats) use EF Core as usual.
/// </summary>
internal sealed class WriteStatements : IDisposable
{
    private readonly SqliteCommand savepoint;
    private readonly SqliteCommand release;
    private readonly SqliteCommand rollback;
    private readonly SqliteCommand insertTask;
    private readonly SqliteCommand insertInput;
    private readonly SqliteCommand insertOutbox;
    private readonly SqliteCommand updateTask;
    private readonly SqliteCommand confirmTask;
    private readonly SqliteCommand deleteOutbox;
    private readonly SqliteCommand stampRows;
    private readonly SqliteCommand advanceSeq;
    private readonly SqliteCommand readSeq;
    private readonly List<SqliteCommand> all = [];

    // Tracking-free, compiled once: EF materializes the aggregate (private setters and all).
    private static readonly Func<TasksDbContext, string, Task<TaskRecord?>> FindTask =
        EF.CompileAsyncQuery((TasksDbContext db, string id) => db.Tasks.AsNoTracking().FirstOrDefault(t => t.Id == id));

    public WriteStatements(SqliteConnection connection)
    {
        savepoint = Prepare(connection, "SAVEPOINT command");
        release = Prepare(connection, "RELEASE command");
        rollback = Prepare(connection, "ROLLBACK TO command");
        insertTask = Prepare(connection, """
            INSERT INTO tasks (Id, State, Queue, Algorithm, TextALength, TextBLength, Attempts, CreatedAtMs, UpdatedAtMs, ChangeSeq,
                Progress, CancelRequested, IdempotencyKey)
            VALUES ($id, $state, $queue, $algorithm, $a, $b, 0, $now, $now, 0, 0, 0, $key)
            """, "$id", "$state", "$queue", "$algorithm", "$a", "$b", "$now", "$key");
        insertInput = Prepare(connection, "INSERT INTO task_inputs (TaskId, TextA, TextB) VALUES ($id, $a, $b)", "$id", "$a", "$b");
        insertOutbox = Prepare(connection, "INSERT INTO outbox (TaskId, CreatedAtMs, TraceParent) VALUES ($id, $now, $trace) RETURNING Id",
            "$id", "$now", "$trace");
        updateTask = Prepare(connection, """
            UPDATE tasks SET State = $state, Attempts = $attempts, WorkerId = $worker, StartedAtMs = $started, FinishedAtMs = $finished,
                UpdatedAtMs = $updated, Progress = $progress, ResultLength = $length, ResultSubstring = $substring,
                ResultOffsetA = $offsetA, ResultOffsetB = $offsetB, Error = $error, CancelRequested = $cancel, LeaseExpiresAtMs = $lease,
                ClaimTokenHash = $claim
            WHERE Id = $id
            """, "$state", "$attempts", "$worker", "$started", "$finished", "$updated", "$progress", "$length", "$substring",
            "$offsetA", "$offsetB", "$error", "$cancel", "$lease", "$claim", "$id");
        confirmTask = Prepare(connection, "UPDATE tasks SET State = $to, UpdatedAtMs = $now WHERE Id = $id AND State = $from",
            "$to", "$now", "$id", "$from");
        deleteOutbox = Prepare(connection, "DELETE FROM outbox WHERE Id = $id", "$id");
        stampRows = Prepare(connection, ChangeStamp.StampRows);
        advanceSeq = Prepare(connection, ChangeStamp.Advance);
        readSeq = Prepare(connection, ChangeStamp.Read);
    }

    /// <summary>The change feed's latest sequence number.</summary>
    public long LastChangeSeq() => (long)readSeq.ExecuteScalar()!;

    /// <summary>Stamps this transaction's changes (see <see cref="ChangeStamp"/>); returns the feed's latest sequence number.</summary>
    public long StampChanges() => (long)(stampRows.ExecuteNonQuery() > 0 ? advanceSeq : readSeq).ExecuteScalar()!;

    /// <summary>Enlists every statement in the writer's current transaction.</summary>
    public void Enlist(SqliteTransaction transaction)
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

    /// <summary>Inserts a new task, its texts and its outbox row; returns the outbox row's id.</summary>
    public long InsertSubmitted(TaskRecord task, string textA, string textB, string? traceParent)
    {
        Bind(insertTask, task.Id, (int)task.State, (int)task.Queue, (int)task.Algorithm, task.TextALength, task.TextBLength, task.CreatedAtMs,
            task.IdempotencyKey);
        insertTask.ExecuteNonQuery();
        Bind(insertInput, task.Id, textA, textB);
        insertInput.ExecuteNonQuery();
        Bind(insertOutbox, task.Id, task.CreatedAtMs, traceParent);
        return (long)insertOutbox.ExecuteScalar()!;
    }

    /// <summary>The task as stored, untracked, or null.</summary>
    public static Task<TaskRecord?> FindAsync(TasksDbContext db, string id) => FindTask(db, id);

    /// <summary>Writes back a task's state after a transition (the triggers decide whether it is a visible change).</summary>
    public void Save(TaskRecord t)
    {
        Bind(updateTask, (int)t.State, t.Attempts, t.WorkerId, t.StartedAtMs, t.FinishedAtMs, t.UpdatedAtMs, t.Progress, t.ResultLength,
            t.ResultSubstring, t.ResultOffsetA, t.ResultOffsetB, t.Error, t.CancelRequested, t.LeaseExpiresAtMs, t.ClaimTokenHash, t.Id);
        updateTask.ExecuteNonQuery();
    }

    /// <summary>The broker confirmed a task's message: the outbox row goes, a PENDING task becomes QUEUED.</summary>
    public void Confirm(long outboxId, string taskId, long nowMs)
    {
        DeleteOutbox(outboxId);
        var (from, to) = TaskRecord.BrokerConfirmMove;
        Bind(confirmTask, (int)to, nowMs, taskId, (int)from);
        confirmTask.ExecuteNonQuery();
    }

    /// <summary>Removes an outbox row.</summary>
    public void DeleteOutbox(long outboxId)
    {
        Bind(deleteOutbox, outboxId);
        deleteOutbox.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in all) command.Dispose();
    }

    private SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        command.Prepare();
        all.Add(command);
        return command;
    }

    private static void Bind(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
    }
}
