using System.Runtime.CompilerServices;
using CeleryKube.TaskService.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Tasks as listings carry them: every column, but the result's substring cut by the database to
/// its first <see cref="ResultCodePoints"/> code points, so a page or a watch event never reads or
/// sends a result that can be as long as an input (10 MB). SQL <c>substr</c> counts code points on
/// SQLite and PostgreSQL alike; the column list comes from the EF model, so it follows the mapping.
/// </summary>
public static class TaskSummaries
{
    /// <summary>Code points of the result's substring a summary keeps (the rule for ListTasks, WatchTasks and TASK_VIEW_SUMMARY).</summary>
    public const int ResultCodePoints = 200;

    /// <summary>The tasks, untracked, with shortened results; compose filters and ordering on it as on <c>db.Tasks</c>.</summary>
    public static IQueryable<TaskRecord> Query(TasksDbContext db) => db.Tasks.FromSqlRaw(Select(db)).AsNoTracking();

    // Built once per model (one per database engine), not per query: building it walks the model.
    private static readonly ConditionalWeakTable<IModel, string> Selects = new();

    /// <summary>The SQL <see cref="Query"/> starts from, for a query compiled ahead (it takes <c>FromSqlRaw</c> of it).</summary>
    public static string Select(TasksDbContext db) => Selects.GetValue(db.Model, _ => BuildSelect(db));

    private static string BuildSelect(TasksDbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(TaskRecord))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var columns = entity.GetProperties().Select(p =>
        {
            var column = sql.DelimitIdentifier(p.GetColumnName(table)!);
            return p.Name == nameof(TaskRecord.ResultSubstring) ? $"substr({column}, 1, {ResultCodePoints}) AS {column}" : column;
        });
        return $"SELECT {string.Join(", ", columns)} FROM {sql.DelimitIdentifier(table.Name, table.Schema)}";
    }
}
