using System.ComponentModel.DataAnnotations;
using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Options;

/// <summary>How long finished tasks are kept (<c>Retention__*</c>).</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>Keep SUCCEEDED tasks this long after they finished.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan Succeeded { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Keep FAILED tasks this long after they finished.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan Failed { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Keep CANCELLED tasks this long after they finished.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan Cancelled { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the sweeper runs.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The retention of a final state.</summary>
    public TimeSpan For(TaskState state) => state switch
    {
        TaskState.Succeeded => Succeeded,
        TaskState.Failed => Failed,
        TaskState.Cancelled => Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "only final states are swept"),
    };
}
