using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CeleryKube.TaskService.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PartialIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_tasks_State_FinishedAtMs",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "IX_tasks_State_LeaseExpiresAtMs",
                table: "tasks");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_State_FinishedAtMs",
                table: "tasks",
                columns: new[] { "State", "FinishedAtMs" },
                filter: "\"FinishedAtMs\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_State_LeaseExpiresAtMs",
                table: "tasks",
                columns: new[] { "State", "LeaseExpiresAtMs" },
                filter: "\"LeaseExpiresAtMs\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_tasks_State_FinishedAtMs",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "IX_tasks_State_LeaseExpiresAtMs",
                table: "tasks");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_State_FinishedAtMs",
                table: "tasks",
                columns: new[] { "State", "FinishedAtMs" });

            migrationBuilder.CreateIndex(
                name: "IX_tasks_State_LeaseExpiresAtMs",
                table: "tasks",
                columns: new[] { "State", "LeaseExpiresAtMs" });
        }
    }
}
