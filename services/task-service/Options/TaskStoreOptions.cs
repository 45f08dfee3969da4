using Microsoft.Extensions.Options;

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
    public string Provider { get; set; } = nameof(StoreProvider.Sqlite);

    /// <summary><see cref="Provider"/> as an enum; any other value stops the service at start with a message naming the setting.</summary>
    public StoreProvider Kind => Enum.GetNames<StoreProvider>().Contains(Provider)
        ? Enum.Parse<StoreProvider>(Provider)
        : throw new OptionsValidationException(SectionName, typeof(TaskStoreOptions),
            [$"TaskStore__Provider must be Sqlite (an embedded file, one replica) or Postgres (a shared database, several replicas), not '{Provider}'"]);
}

/// <summary>The database engines the task store runs on.</summary>
public enum StoreProvider
{
    /// <summary>An embedded SQLite file in WAL mode.</summary>
    Sqlite,
    /// <summary>A PostgreSQL database shared by several replicas.</summary>
    Postgres,
}
