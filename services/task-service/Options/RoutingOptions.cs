using System.ComponentModel.DataAnnotations;

namespace CeleryKube.TaskService.Options;

/// <summary>How tasks are routed to queues (<c>Routing__*</c>).</summary>
public sealed class RoutingOptions
{
    public const string SectionName = "Routing";

    /// <summary>A task goes to <c>lcs.large</c> when its longer text has more code points than this.</summary>
    [Range(0, int.MaxValue)]
    public int LargeTaskThreshold { get; set; } = 1000;
}
