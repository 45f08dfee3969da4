using System.ComponentModel.DataAnnotations;

namespace CeleryKube.TaskService.Options;

/// <summary>Leases of running tasks (<c>Leases__*</c>).</summary>
public sealed class LeasesOptions
{
    public const string SectionName = "Leases";

    /// <summary>
    /// How long a claim lasts without progress or heartbeat. When it lapses the reaper puts the task
    /// back on its queue (or ends it CANCELLED when cancellation was requested). Workers learn it
    /// from StartTask and Heartbeat responses and heartbeat from it, and the cluster view marks a
    /// worker stale from it (<see cref="Protos.LeaseRules"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the reaper looks for lapsed leases.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ReaperInterval { get; set; } = TimeSpan.FromSeconds(5);
}
