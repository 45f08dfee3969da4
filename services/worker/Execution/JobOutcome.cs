using CeleryKube.Protos.V1;

namespace CeleryKube.Worker.Execution;

/// <summary>How one run of an LCS job ended.</summary>
public abstract record JobOutcome
{
    private JobOutcome() { }

    /// <summary>The run produced a result.</summary>
    public sealed record Succeeded(LcsResult Result) : JobOutcome;

    /// <summary>The run failed (exception or time limit); <paramref name="Reason"/> is shown to users.</summary>
    public sealed record Failed(string Reason) : JobOutcome;

    /// <summary>The run stopped because task-service asked it to (cancellation or a lost lease).</summary>
    public sealed record Cancelled(string Reason) : JobOutcome;

    /// <summary>The worker is shutting down: nothing is reported and the job goes back to the queue.</summary>
    public sealed record Abandoned : JobOutcome;

    /// <summary>A metric and log label: succeeded, failed, cancelled or abandoned.</summary>
    public string Label => this switch
    {
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
        _ => "abandoned",
    };
}
