using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Persistence;

/// <summary>A row of <c>workers</c>: the registry fed by heartbeats; rows expire.</summary>
public sealed class WorkerRecord
{
    /// <summary>Unique worker id.</summary>
    public required string WorkerId { get; init; }
    /// <summary>Consumed queue.</summary>
    public TaskQueue Queue { get; set; }
    /// <summary>Task slots.</summary>
    public int Concurrency { get; set; }
    /// <summary>Running tasks at the last heartbeat.</summary>
    public int Active { get; set; }
    /// <summary>Finished tasks since the worker started.</summary>
    public long Processed { get; set; }
    /// <summary>WorkerControlService address.</summary>
    public string? ControlAddress { get; set; }
    /// <summary>Unix milliseconds of the last heartbeat.</summary>
    public long LastHeartbeatMs { get; set; }
}
