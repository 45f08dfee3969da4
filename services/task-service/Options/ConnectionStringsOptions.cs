using System.ComponentModel.DataAnnotations;

namespace CeleryKube.TaskService.Options;

/// <summary>The task store (<c>ConnectionStrings__Tasks</c>).</summary>
public sealed class ConnectionStringsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ConnectionStrings";

    /// <summary>
    /// The task store's connection string: a SQLite one (its folder is created if missing), or with
    /// <c>TaskStore__Provider=Postgres</c> an Npgsql one.
    /// </summary>
    [Required]
    public string Tasks { get; set; } = "Data Source=data/tasks.db";
}
