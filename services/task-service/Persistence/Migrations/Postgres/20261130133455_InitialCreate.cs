using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace CeleryKube.TaskService.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "task_tombstones",
                columns: table => new
                {
                    TaskId = table.Column<string>(type: "text", nullable: false),
                    Queue = table.Column<int>(type: "integer", nullable: false),
                    ChangeSeq = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_task_tombstones", x => x.TaskId);
                });

            migrationBuilder.CreateTable(
                name: "tasks",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    State = table.Column<int>(type: "integer", nullable: false),
                    Queue = table.Column<int>(type: "integer", nullable: false),
                    Algorithm = table.Column<int>(type: "integer", nullable: false),
                    TextALength = table.Column<int>(type: "integer", nullable: false),
                    TextBLength = table.Column<int>(type: "integer", nullable: false),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    WorkerId = table.Column<string>(type: "text", nullable: true),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false),
                    StartedAtMs = table.Column<long>(type: "bigint", nullable: true),
                    FinishedAtMs = table.Column<long>(type: "bigint", nullable: true),
                    UpdatedAtMs = table.Column<long>(type: "bigint", nullable: false),
                    ChangeSeq = table.Column<long>(type: "bigint", nullable: false),
                    Progress = table.Column<double>(type: "double precision", nullable: false),
                    ResultLength = table.Column<int>(type: "integer", nullable: true),
                    ResultSubstring = table.Column<string>(type: "text", nullable: true),
                    ResultOffsetA = table.Column<int>(type: "integer", nullable: true),
                    ResultOffsetB = table.Column<int>(type: "integer", nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true),
                    IdempotencyKey = table.Column<string>(type: "text", nullable: true),
                    CancelRequested = table.Column<bool>(type: "boolean", nullable: false),
                    LeaseExpiresAtMs = table.Column<long>(type: "bigint", nullable: true),
                    ClaimTokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_tasks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "workers",
                columns: table => new
                {
                    WorkerId = table.Column<string>(type: "text", nullable: false),
                    Queue = table.Column<int>(type: "integer", nullable: false),
                    Concurrency = table.Column<int>(type: "integer", nullable: false),
                    Active = table.Column<int>(type: "integer", nullable: false),
                    Processed = table.Column<long>(type: "bigint", nullable: false),
                    ControlAddress = table.Column<string>(type: "text", nullable: true),
                    LastHeartbeatMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_workers", x => x.WorkerId);
                });

            migrationBuilder.CreateTable(
                name: "outbox",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    TaskId = table.Column<string>(type: "character varying(36)", nullable: false),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false),
                    TraceParent = table.Column<string>(type: "text", nullable: true),
                    ClaimedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ClaimedUntilMs = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox", x => x.Id);
                    table.ForeignKey(
                        name: "FK_outbox_tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "task_inputs",
                columns: table => new
                {
                    TaskId = table.Column<string>(type: "character varying(36)", nullable: false),
                    TextA = table.Column<string>(type: "text", nullable: false),
                    TextB = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_task_inputs", x => x.TaskId);
                    table.ForeignKey(
                        name: "FK_task_inputs_tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_TaskId",
                table: "outbox",
                column: "TaskId");

            migrationBuilder.CreateIndex(
                name: "IX_task_tombstones_ChangeSeq",
                table: "task_tombstones",
                column: "ChangeSeq");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_ChangeSeq",
                table: "tasks",
                column: "ChangeSeq");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_CreatedAtMs_Id",
                table: "tasks",
                columns: new[] { "CreatedAtMs", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_tasks_IdempotencyKey",
                table: "tasks",
                column: "IdempotencyKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_tasks_Queue_CreatedAtMs",
                table: "tasks",
                columns: new[] { "Queue", "CreatedAtMs" });

            migrationBuilder.CreateIndex(
                name: "IX_tasks_State_CreatedAtMs",
                table: "tasks",
                columns: new[] { "State", "CreatedAtMs" });

            migrationBuilder.CreateIndex(
                name: "IX_tasks_State_FinishedAtMs",
                table: "tasks",
                columns: new[] { "State", "FinishedAtMs" });

            migrationBuilder.CreateIndex(
                name: "IX_tasks_State_LeaseExpiresAtMs",
                table: "tasks",
                columns: new[] { "State", "LeaseExpiresAtMs" });
            // The change feed (see ChangeStamp): ChangeSeq 0 marks "changed in this transaction"
            // (BEFORE triggers, so the row is written once), deletions leave a tombstone, and
            // stamp_changes() numbers them at the end of the transaction from the counter row,
            // which stays locked until commit, so commit order is sequence order across replicas.
            // A row counts as changed when a value a reader can see differs (a lease renewal alone
            // does not). Outbox rows inserted unclaimed (requeues) wake every replica's dispatcher.
            migrationBuilder.Sql("""
                CREATE TABLE change_counter ("Id" integer NOT NULL PRIMARY KEY CHECK ("Id" = 1), "Seq" bigint NOT NULL);
                INSERT INTO change_counter ("Id", "Seq") VALUES (1, 0);
                """);
            migrationBuilder.Sql("""
                CREATE FUNCTION tasks_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' OR ROW(OLD."Id", OLD."State", OLD."Queue", OLD."Algorithm", OLD."TextALength", OLD."TextBLength",
                        OLD."Attempts", OLD."WorkerId", OLD."CreatedAtMs", OLD."StartedAtMs", OLD."FinishedAtMs",
                        OLD."UpdatedAtMs", OLD."Progress", OLD."ResultLength", OLD."ResultSubstring",
                        OLD."ResultOffsetA", OLD."ResultOffsetB", OLD."Error", OLD."IdempotencyKey",
                        OLD."CancelRequested")
                        IS DISTINCT FROM ROW(NEW."Id", NEW."State", NEW."Queue", NEW."Algorithm", NEW."TextALength", NEW."TextBLength",
                        NEW."Attempts", NEW."WorkerId", NEW."CreatedAtMs", NEW."StartedAtMs", NEW."FinishedAtMs",
                        NEW."UpdatedAtMs", NEW."Progress", NEW."ResultLength", NEW."ResultSubstring",
                        NEW."ResultOffsetA", NEW."ResultOffsetB", NEW."Error", NEW."IdempotencyKey",
                        NEW."CancelRequested") THEN
                        NEW."ChangeSeq" := 0;
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER tasks_change BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION tasks_mark_changed();
                """);
            migrationBuilder.Sql("""
                CREATE FUNCTION tasks_leave_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO task_tombstones ("TaskId", "Queue", "ChangeSeq") VALUES (OLD."Id", OLD."Queue", 0)
                    ON CONFLICT ("TaskId") DO UPDATE SET "Queue" = excluded."Queue", "ChangeSeq" = 0;
                    RETURN OLD;
                END $$;
                CREATE TRIGGER tasks_delete AFTER DELETE ON tasks FOR EACH ROW EXECUTE FUNCTION tasks_leave_tombstone();
                """);
            migrationBuilder.Sql("""
                CREATE FUNCTION stamp_changes() RETURNS bigint LANGUAGE plpgsql AS $$
                DECLARE seq bigint;
                BEGIN
                    IF EXISTS (SELECT 1 FROM tasks WHERE "ChangeSeq" = 0) OR EXISTS (SELECT 1 FROM task_tombstones WHERE "ChangeSeq" = 0) THEN
                        UPDATE change_counter SET "Seq" = "Seq" + 1 WHERE "Id" = 1 RETURNING "Seq" INTO seq;
                        UPDATE tasks SET "ChangeSeq" = seq WHERE "ChangeSeq" = 0;
                        UPDATE task_tombstones SET "ChangeSeq" = seq WHERE "ChangeSeq" = 0;
                        PERFORM pg_notify('celerykube_changes', seq::text);
                    ELSE
                        SELECT "Seq" INTO seq FROM change_counter WHERE "Id" = 1;
                    END IF;
                    RETURN seq;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE FUNCTION outbox_wake_dispatchers() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('celerykube_outbox', '');
                    RETURN NULL;
                END $$;
                CREATE TRIGGER outbox_unclaimed_row AFTER INSERT ON outbox FOR EACH ROW WHEN (NEW."ClaimedBy" IS NULL)
                    EXECUTE FUNCTION outbox_wake_dispatchers();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER outbox_unclaimed_row ON outbox; DROP FUNCTION outbox_wake_dispatchers();
                DROP FUNCTION stamp_changes();
                DROP TRIGGER tasks_delete ON tasks; DROP FUNCTION tasks_leave_tombstone();
                DROP TRIGGER tasks_change ON tasks; DROP FUNCTION tasks_mark_changed();
                DROP TABLE change_counter;
                """);
            migrationBuilder.DropTable(
                name: "outbox");

            migrationBuilder.DropTable(
                name: "task_inputs");

            migrationBuilder.DropTable(
                name: "task_tombstones");

            migrationBuilder.DropTable(
                name: "workers");

            migrationBuilder.DropTable(
                name: "tasks");
        }
    }
}
