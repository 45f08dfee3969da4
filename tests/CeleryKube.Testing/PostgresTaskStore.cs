namespace CeleryKube.Testing;

/// <summary>How a task-service process is told to keep its store in PostgreSQL (for <see cref="StackOptions.TaskServiceSettings"/>).</summary>
public static class PostgresTaskStore
{
    /// <summary>
    /// <c>TaskStore__Provider=Postgres</c> and <c>ConnectionStrings__Tasks</c>; replicas given the
    /// same <paramref name="connectionString"/> share one store.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Settings(string connectionString) => new Dictionary<string, string>
    {
        ["TaskStore__Provider"] = "Postgres",
        ["ConnectionStrings__Tasks"] = connectionString,
    };
}
