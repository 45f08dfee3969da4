namespace CeleryKube.Worker.Execution;

/// <summary>
/// Receives a running job's progress (on the computing thread, so it must not block) and carries
/// task-service's answer: a request to stop.
/// </summary>
public interface IJobProgress : IProgress<double>
{
    /// <summary>Cancelled when the run should stop (cancellation requested, or the lease was lost).</summary>
    CancellationToken StopRequested { get; }

    /// <summary>Why the run should stop, once <see cref="StopRequested"/> fired.</summary>
    string StopReason { get; }
}
