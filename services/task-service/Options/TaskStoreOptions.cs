using System.ComponentModel.DataAnnotations;

namespace CeleryKube.TaskService.Options;

/// <summary>Which database engine holds the task store (<c>TaskStore__*</c>).</summary>
public sealed class TaskStoreOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "TaskStore";

    /// <summary>
    /// <c>Sqlite</c>: an embedded file, one task-service replica. <c>Postgres</c>: a shared
    /// PostgreSQL database (<c>ConnectionStrings__Tasks</c> is then an Npgsql connection string),
    /// any number of replicas.
    /// </summary>
    [AllowedValues(nameof(StoreProvider.Sqlite), nameof(StoreProvider.Postgres),
        ErrorMessage = "must be Sqlite (an embedded file, one replica) or Postgres (a shared database, several replicas)")]
    public string Provider { get; set; } = nameof(StoreProvider.Sqlite);

    /// <summary><see cref="Provider"/> as an enum (validated at start-up).</summary>
    public StoreProvider Kind => Enum.Parse<StoreProvider>(Provider);
}

/// <summary>The database engines the task store runs on.</summary>
public enum StoreProvider
{
    /// <summary>An embedded SQLite file in WAL mode.</summary>
    Sqlite,
    /// <summary>A PostgreSQL database shared by several replicas.</summary>
    Postgres,
}
