using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CeleryKube.TaskService.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "tasks",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    Queue = table.Column<int>(type: "INTEGER", nullable: false),
                    Algorithm = table.Column<int>(type: "INTEGER", nullable: false),
                    TextALength = table.Column<int>(type: "INTEGER", nullable: false),
                    TextBLength = table.Column<int>(type: "INTEGER", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    WorkerId = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAtMs = table.Column<long>(type: "INTEGER", nullable: false),
                    StartedAtMs = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAtMs = table.Column<long>(type: "INTEGER", nullable: true),
                    UpdatedAtMs = table.Column<long>(type: "INTEGER", nullable: false),
                    ChangeSeq = table.Column<long>(type: "INTEGER", nullable: false),
                    Progress = table.Column<double>(type: "REAL", nullable: false),
                    ResultLength = table.Column<int>(type: "INTEGER", nullable: true),
                    ResultSubstring = table.Column<string>(type: "TEXT", nullable: true),
                    ResultOffsetA = table.Column<int>(type: "INTEGER", nullable: true),
                    ResultOffsetB = table.Column<int>(type: "INTEGER", nullable: true),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    IdempotencyKey = table.Column<string>(type: "TEXT", nullable: true),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false),
                    LeaseExpiresAtMs = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_tasks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "workers",
                columns: table => new
                {
                    WorkerId = table.Column<string>(type: "TEXT", nullable: false),
                    Queue = table.Column<int>(type: "INTEGER", nullable: false),
                    Concurrency = table.Column<int>(type: "INTEGER", nullable: false),
                    Active = table.Column<int>(type: "INTEGER", nullable: false),
                    Processed = table.Column<long>(type: "INTEGER", nullable: false),
                    ControlAddress = table.Column<string>(type: "TEXT", nullable: true),
                    LastHeartbeatMs = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_workers", x => x.WorkerId);
                });

            migrationBuilder.CreateTable(
                name: "outbox",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    TaskId = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAtMs = table.Column<long>(type: "INTEGER", nullable: false),
                    TraceParent = table.Column<string>(type: "TEXT", nullable: true)
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
                    TaskId = table.Column<string>(type: "TEXT", nullable: false),
                    TextA = table.Column<string>(type: "TEXT", nullable: false),
                    TextB = table.Column<string>(type: "TEXT", nullable: false)
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
                unique: true,
                filter: "IdempotencyKey IS NOT NULL");

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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "outbox");

            migrationBuilder.DropTable(
                name: "task_inputs");

            migrationBuilder.DropTable(
                name: "workers");

            migrationBuilder.DropTable(
                name: "tasks");
        }
    }
}
