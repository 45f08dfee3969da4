using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CeleryKube.TaskService.Persistence.Migrations.Sqlite
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
            // transaction", and ChangeStamp numbers those rows just before the commit. A row counts
            // as changed when a value a reader can see differs (a lease renewal alone does not, nor
            // does an update that writes the values the row already had).
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
                CREATE TRIGGER tasks_change_on_update AFTER UPDATE ON tasks
                WHEN NEW.ChangeSeq <> 0 AND (
                    OLD.Id IS NOT NEW.Id OR OLD.State IS NOT NEW.State OR OLD.Queue IS NOT NEW.Queue OR
                    OLD.Algorithm IS NOT NEW.Algorithm OR OLD.TextALength IS NOT NEW.TextALength OR
                    OLD.TextBLength IS NOT NEW.TextBLength OR OLD.Attempts IS NOT NEW.Attempts OR
                    OLD.WorkerId IS NOT NEW.WorkerId OR OLD.CreatedAtMs IS NOT NEW.CreatedAtMs OR
                    OLD.StartedAtMs IS NOT NEW.StartedAtMs OR OLD.FinishedAtMs IS NOT NEW.FinishedAtMs OR
                    OLD.UpdatedAtMs IS NOT NEW.UpdatedAtMs OR OLD.Progress IS NOT NEW.Progress OR
                    OLD.ResultLength IS NOT NEW.ResultLength OR OLD.ResultSubstring IS NOT NEW.ResultSubstring OR
                    OLD.ResultOffsetA IS NOT NEW.ResultOffsetA OR OLD.ResultOffsetB IS NOT NEW.ResultOffsetB OR
                    OLD.Error IS NOT NEW.Error OR OLD.IdempotencyKey IS NOT NEW.IdempotencyKey OR
                    OLD.CancelRequested IS NOT NEW.CancelRequested)
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
