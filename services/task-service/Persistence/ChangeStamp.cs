namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Gives each write transaction's changes their place in the change feed, at the end of the
/// transaction, from the counter row. Triggers (created by each provider's change-feed migration)
/// reset <c>ChangeSeq</c> to 0 on every insert or visible update of a task and write a tombstone
/// with <c>ChangeSeq</c> 0 for every deleted one, whatever statement did it (EF, a bulk update or
/// delete, raw SQL, a cascade). The stamp then numbers all of them with the next sequence. One
/// sequence number per transaction keeps the feed in commit order even with several writers (on
/// PostgreSQL, several replicas): the counter row is updated last and stays locked until commit,
/// so a later number cannot commit before an earlier one. On SQLite the stamp is these statements
/// (<see cref="SqliteDialect"/>); on PostgreSQL the <c>stamp_changes()</c> function of its
/// migrations does the same in one round trip and NOTIFYs the new number.
/// </summary>
internal static class ChangeStamp
{
    /// <summary>Numbers this transaction's changed rows with the next sequence; returns how many.</summary>
    public const string StampRows = """
        UPDATE tasks SET ChangeSeq = (SELECT Seq + 1 FROM change_counter WHERE Id = 1) WHERE ChangeSeq = 0;
        UPDATE task_tombstones SET ChangeSeq = (SELECT Seq + 1 FROM change_counter WHERE Id = 1) WHERE ChangeSeq = 0;
        """;

    /// <summary>Takes the next sequence number (after <see cref="StampRows"/> stamped something).</summary>
    public const string Advance = "UPDATE change_counter SET Seq = Seq + 1 WHERE Id = 1 RETURNING Seq;";

    /// <summary>The latest sequence number handed out (quoted: the same text runs on both engines).</summary>
    public const string Read = "SELECT \"Seq\" FROM change_counter WHERE \"Id\" = 1;";
}
