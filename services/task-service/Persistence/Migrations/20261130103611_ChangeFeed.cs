using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CeleryKube.TaskService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ChangeFeed : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "task_tombstones",
                columns: table => new
                {
                    TaskId = table.Column<string>(type: "TEXT", nullable: false),
                    Queue = table.Column<int>(type: "INTEGER", nullable: false),
                    ChangeSeq = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_task_tombstones", x => x.TaskId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_task_tombstones_ChangeSeq",
                table: "task_tombstones",
                column: "ChangeSeq");

            // The change feed's counter row, and the triggers that make every change of a task a
            // change event whatever statement made it: ChangeSeq 0 means "changed in this
            // transaction", and ChangeStamp numbers those rows just before the commit. A lease
            // renewal alone is not a change a reader can see, so LeaseExpiresAtMs is left out.
            migrationBuilder.Sql("""
                CREATE TABLE change_counter (Id INTEGER NOT NULL PRIMARY KEY CHECK (Id = 1), Seq INTEGER NOT NULL);
                INSERT INTO change_counter (Id, Seq) SELECT 1, COALESCE(MAX(ChangeSeq), 0) FROM tasks;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER tasks_change_on_insert AFTER INSERT ON tasks WHEN NEW.ChangeSeq <> 0
                BEGIN
                    UPDATE tasks SET ChangeSeq = 0 WHERE rowid = NEW.rowid;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER tasks_change_on_update
                AFTER UPDATE OF Id, State, Queue, Algorithm, TextALength, TextBLength, Attempts, WorkerId, CreatedAtMs, StartedAtMs,
                    FinishedAtMs, UpdatedAtMs, Progress, ResultLength, ResultSubstring, ResultOffsetA, ResultOffsetB, Error,
                    IdempotencyKey, CancelRequested
                ON tasks WHEN NEW.ChangeSeq <> 0
                BEGIN
                    UPDATE tasks SET ChangeSeq = 0 WHERE rowid = NEW.rowid;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER tasks_change_on_delete AFTER DELETE ON tasks
                BEGIN
                    INSERT OR REPLACE INTO task_tombstones (TaskId, Queue, ChangeSeq) VALUES (OLD.Id, OLD.Queue, 0);
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER tasks_change_on_insert; DROP TRIGGER tasks_change_on_update; DROP TRIGGER tasks_change_on_delete; DROP TABLE change_counter;");
            migrationBuilder.DropTable(
                name: "task_tombstones");
        }
    }
}
