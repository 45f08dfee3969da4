using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace CeleryKube.Bench.Pipeline;

/// <summary>
/// The raw SQLite write rate for the rows one task causes, without EF Core, gRPC or the broker:
/// insert task + input + outbox row; delete the outbox row and mark QUEUED; claim (RUNNING);
/// complete (SUCCEEDED). Same schema (copied from the running task-service's database) and the
/// same pragmas as services/task-service/Persistence/SqlitePragmas.cs.
/// </summary>
public static class RawSqliteLimit
{
    /// <summary>Copied from SqlitePragmas.Statements; task-service is not referenced as a library.</summary>
    public const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;";

    /// <summary>
    /// Runs <paramref name="tasks"/> tasks' writes with <paramref name="tasksPerCommit"/> tasks per
    /// transaction for each of the four steps (1 = every write commits alone). Returns tasks per second.
    /// </summary>
    public static double TasksPerSecond(string schemaSourceDb, string folder, int tasks, int tasksPerCommit)
    {
        var file = Path.Combine(folder, $"raw-sqlite-{tasksPerCommit}.db");
        foreach (var f in new[] { file, file + "-wal", file + "-shm" }) File.Delete(f);
        using var db = Open(file);
        CopySchema(schemaSourceDb, db);

        var ids = Enumerable.Range(0, tasks).Select(_ => Guid.NewGuid().ToString()).ToArray();
        var textA = Texts.Random(PipelineRuns.SmallTextLength);
        var textB = Texts.Random(PipelineRuns.SmallTextLength);
        long seq = 0;
        var clock = Stopwatch.StartNew();
        for (var first = 0; first < tasks; first += tasksPerCommit)
        {
            var batch = ids.Skip(first).Take(tasksPerCommit).ToArray();
            // Four separate commits per group, as in the pipeline: submit, broker confirm, claim, result.
            InTransaction(db, tx => { foreach (var id in batch) Insert(db, tx, id, textA, textB, ++seq); });
            InTransaction(db, tx => { foreach (var id in batch) MarkQueued(db, tx, id, ++seq); });
            InTransaction(db, tx => { foreach (var id in batch) Claim(db, tx, id, ++seq); });
            InTransaction(db, tx => { foreach (var id in batch) Complete(db, tx, id, ++seq); });
        }
        return tasks / clock.Elapsed.TotalSeconds;
    }

    private static SqliteConnection Open(string file)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
        db.Open();
        Execute(db, null, Pragmas);
        return db;
    }

    private static void CopySchema(string sourceDb, SqliteConnection target)
    {
        using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = sourceDb, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        source.Open();
        using var read = source.CreateCommand();
        // Tables first, then indexes; SQLite's own objects are created by SQLite.
        read.CommandText = "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid";
        using var reader = read.ExecuteReader();
        while (reader.Read()) Execute(target, null, reader.GetString(0));
    }

    private static void InTransaction(SqliteConnection db, Action<SqliteTransaction> work)
    {
        using var tx = db.BeginTransaction();
        work(tx);
        tx.Commit();
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static void Insert(SqliteConnection db, SqliteTransaction tx, string id, string a, string b, long seq)
    {
        Execute(db, tx, """
            INSERT INTO tasks (Id, State, Queue, Algorithm, TextALength, TextBLength, Attempts, CreatedAtMs, UpdatedAtMs, ChangeSeq, Progress, CancelRequested)
            VALUES ($id, 1, 1, 1, 100, 100, 0, $now, $now, $seq, 0, 0)
            """, ("$id", id), ("$now", Now), ("$seq", seq));
        Execute(db, tx, "INSERT INTO task_inputs (TaskId, TextA, TextB) VALUES ($id, $a, $b)", ("$id", id), ("$a", a), ("$b", b));
        Execute(db, tx, "INSERT INTO outbox (TaskId, CreatedAtMs, TraceParent) VALUES ($id, $now, NULL)", ("$id", id), ("$now", Now));
    }

    private static void MarkQueued(SqliteConnection db, SqliteTransaction tx, string id, long seq)
    {
        Execute(db, tx, "DELETE FROM outbox WHERE TaskId = $id", ("$id", id));
        Execute(db, tx, "UPDATE tasks SET State = 2, ChangeSeq = $seq, UpdatedAtMs = $now WHERE Id = $id", ("$id", id), ("$seq", seq), ("$now", Now));
    }

    private static void Claim(SqliteConnection db, SqliteTransaction tx, string id, long seq)
    {
        // The pipeline reads the row before changing it (EF FindAsync); so does this.
        Execute(db, tx, "SELECT * FROM tasks WHERE Id = $id", ("$id", id));
        Execute(db, tx, """
            UPDATE tasks SET State = 3, Attempts = 1, WorkerId = 'worker-small-1', StartedAtMs = $now, LeaseExpiresAtMs = $lease,
            ChangeSeq = $seq, UpdatedAtMs = $now WHERE Id = $id
            """, ("$id", id), ("$seq", seq), ("$now", Now), ("$lease", Now + 30_000));
    }

    private static void Complete(SqliteConnection db, SqliteTransaction tx, string id, long seq)
    {
        Execute(db, tx, "SELECT * FROM tasks WHERE Id = $id", ("$id", id));
        Execute(db, tx, """
            UPDATE tasks SET State = 4, Progress = 1, ResultLength = 3, ResultSubstring = 'abc', ResultOffsetA = 1, ResultOffsetB = 2,
            FinishedAtMs = $now, LeaseExpiresAtMs = NULL, ChangeSeq = $seq, UpdatedAtMs = $now WHERE Id = $id
            """, ("$id", id), ("$seq", seq), ("$now", Now));
    }

    private static void Execute(SqliteConnection db, SqliteTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }
}
