using CeleryKube.TaskService.Domain;
using Microsoft.EntityFrameworkCore;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// The task store: tasks, their inputs, the outbox, the worker registry, and tombstones of deleted
/// tasks for the change feed. Change stamping is done by triggers and <see cref="ChangeStamp"/>
/// (see each provider's change-feed migration), so no statement can change a task without a change
/// event. One model for every provider; each provider has its own context type only so that its
/// migration set is its own (EF Core's "migrations with multiple providers").
/// </summary>
public abstract class TasksDbContext(DbContextOptions options) : DbContext(options)
{
    /// <summary>Tasks.</summary>
    public DbSet<TaskRecord> Tasks => Set<TaskRecord>();
    /// <summary>Input texts.</summary>
    public DbSet<TaskInput> TaskInputs => Set<TaskInput>();
    /// <summary>Job messages not yet confirmed by the broker.</summary>
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();
    /// <summary>Registered workers.</summary>
    public DbSet<WorkerRecord> Workers => Set<WorkerRecord>();
    /// <summary>Every state change of every task.</summary>
    public DbSet<TaskHistoryRecord> History => Set<TaskHistoryRecord>();
    /// <summary>Deleted tasks, kept briefly so WatchTasks can report the deletion.</summary>
    public DbSet<TaskTombstone> Tombstones => Set<TaskTombstone>();

    // Quoted identifiers read the same on SQLite and PostgreSQL.
    private static string NotNull(string column) => $"\"{column}\" IS NOT NULL";

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<TaskRecord>(e =>
        {
            e.ToTable("tasks");
            e.HasKey(t => t.Id);
            e.Property(t => t.Id).HasMaxLength(36);
            e.Property(t => t.State);
            e.Property(t => t.Attempts);
            e.Property(t => t.WorkerId);
            e.Property(t => t.StartedAtMs);
            e.Property(t => t.FinishedAtMs);
            e.Property(t => t.Progress);
            e.Property(t => t.ResultLength);
            e.Property(t => t.ResultSubstring);
            e.Property(t => t.ResultOffsetA);
            e.Property(t => t.ResultOffsetB);
            e.Property(t => t.Error);
            e.Property(t => t.CancelRequested);
            e.Property(t => t.LeaseExpiresAtMs);
            e.Property(t => t.ClaimTokenHash).HasMaxLength(64);
            e.Property(t => t.Retries);
            e.HasOne<TaskInput>().WithOne().HasForeignKey<TaskInput>(i => i.TaskId).OnDelete(DeleteBehavior.Cascade);
            // Listing newest first, optionally by state or queue, pages by (created, id).
            e.HasIndex(t => new { t.CreatedAtMs, t.Id });
            e.HasIndex(t => new { t.State, t.CreatedAtMs });
            e.HasIndex(t => new { t.Queue, t.CreatedAtMs });
            // WatchTasks follows the change feed.
            e.HasIndex(t => t.ChangeSeq);
            // Retention sweeps and throughput history read finished tasks, the lease reaper running
            // ones: each index holds only the rows it serves, so a task that is submitted, queued
            // and finished in moments (most of them) never enters the lease index and enters the
            // other once. Their queries compare the column, which implies the filter on both engines.
            e.HasIndex(t => new { t.State, t.FinishedAtMs }).HasFilter(NotNull(nameof(TaskRecord.FinishedAtMs)));
            e.HasIndex(t => new { t.State, t.LeaseExpiresAtMs }).HasFilter(NotNull(nameof(TaskRecord.LeaseExpiresAtMs)));
            // No filter, although most tasks have no key: an upsert must name a partial index's filter,
            // so adding one would break the submits of replicas still running the previous release
            // during a rolling upgrade. NULLs repeat in a unique index on every engine.
            e.HasIndex(t => t.IdempotencyKey).IsUnique();
        });
        model.Entity<TaskInput>(e =>
        {
            e.ToTable("task_inputs");
            e.HasKey(i => i.TaskId);
        });
        model.Entity<OutboxMessage>(e =>
        {
            e.ToTable("outbox");
            e.HasKey(o => o.Id);
            e.Property(o => o.Id).ValueGeneratedOnAdd();
            e.Property(o => o.ClaimedBy).HasMaxLength(200);
            // Deleting a task (by request or retention) takes its unpublished message with it.
            e.HasOne<TaskRecord>().WithMany().HasForeignKey(o => o.TaskId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<TaskHistoryRecord>(e =>
        {
            e.ToTable("task_history");
            e.HasKey(h => h.Id);
            e.Property(h => h.Id).ValueGeneratedOnAdd();
            e.Property(h => h.TaskId).HasMaxLength(36);
            e.Property(h => h.WorkerId).HasMaxLength(200);
            e.Property(h => h.Note).HasMaxLength(TaskHistoryRecord.MaxNoteLength);
            // A task's page reads its history in order; deleting a task (by request or retention) takes it along.
            e.HasIndex(h => new { h.TaskId, h.Id });
            e.HasOne<TaskRecord>().WithMany().HasForeignKey(h => h.TaskId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<TaskTombstone>(e =>
        {
            e.ToTable("task_tombstones");
            e.HasKey(t => t.TaskId);
            e.HasIndex(t => t.ChangeSeq);
        });
        model.Entity<WorkerRecord>(e =>
        {
            e.ToTable("workers");
            e.HasKey(w => w.WorkerId);
        });
    }
}

/// <summary>The task store on SQLite; its migrations are in <c>Persistence/Migrations/Sqlite</c>.</summary>
public sealed class SqliteTasksDbContext(DbContextOptions<SqliteTasksDbContext> options) : TasksDbContext(options)
{
    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder model)
    {
        base.OnModelCreating(model);
        // AFTER triggers stamp changes (see ChangeStamp); SQLite's RETURNING does not mix with them.
        model.Entity<TaskRecord>().ToTable("tasks", tb => tb.UseSqlReturningClause(false));
    }
}

/// <summary>The task store on PostgreSQL; its migrations are in <c>Persistence/Migrations/Postgres</c>.</summary>
public sealed class PostgresTasksDbContext(DbContextOptions<PostgresTasksDbContext> options) : TasksDbContext(options);
