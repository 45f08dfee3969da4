using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Options;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Domain;

/// <summary>The routing rule: large when the longer text exceeds the threshold, else small.</summary>
public sealed class TaskRouter(IOptions<RoutingOptions> options)
{
    /// <summary>The queue for texts of these code-point lengths.</summary>
    public TaskQueue Route(int textALength, int textBLength) =>
        Math.Max(textALength, textBLength) > options.Value.LargeTaskThreshold ? TaskQueue.Large : TaskQueue.Small;
}
