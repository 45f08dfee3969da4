using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CeleryKube.TaskService.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ClaimToken : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ClaimTokenHash",
                table: "tasks",
                type: "TEXT",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ClaimTokenHash",
                table: "tasks");
        }
    }
}
