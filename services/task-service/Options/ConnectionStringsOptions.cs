using System.ComponentModel.DataAnnotations;

namespace CeleryKube.TaskService.Options;

/// <summary>The task store (<c>ConnectionStrings__Tasks</c>).</summary>
public sealed class ConnectionStringsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ConnectionStrings";

    /// <summary>SQLite connection string of the task store; its folder is created if missing.</summary>
    [Required]
    public string Tasks { get; set; } = "Data Source=data/tasks.db";
}
