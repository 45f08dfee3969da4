using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CeleryKube.TaskService.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Replicas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_tasks_IdempotencyKey",
                table: "tasks");

            migrationBuilder.AddColumn<string>(
                name: "ClaimedBy",
                table: "outbox",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ClaimedUntilMs",
                table: "outbox",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_tasks_IdempotencyKey",
                table: "tasks",
                column: "IdempotencyKey",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_tasks_IdempotencyKey",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "ClaimedBy",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "ClaimedUntilMs",
                table: "outbox");

            migrationBuilder.CreateIndex(
                name: "IX_tasks_IdempotencyKey",
                table: "tasks",
                column: "IdempotencyKey",
                unique: true,
                filter: "IdempotencyKey IS NOT NULL");
        }
    }
}
