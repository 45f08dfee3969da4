using System.ComponentModel.DataAnnotations;
using CeleryKube.Protos;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Options;

/// <summary>The registry of workers their heartbeats keep (<c>WorkerRegistry__*</c>), shown by GetClusterStatus.</summary>
public sealed class WorkerRegistryOptions
{
    public const string SectionName = "WorkerRegistry";

    /// <summary>
    /// A worker without a heartbeat for this long leaves the registry; before that it is shown
    /// stale (after half a lease, <see cref="LeaseRules.StaleAfter"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ExpireAfter { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>A worker must be shown stale before it leaves the registry, or it would vanish between two heartbeats.</summary>
public sealed class WorkerRegistryValidation(IOptions<LeasesOptions> leases) : IValidateOptions<WorkerRegistryOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, WorkerRegistryOptions options)
    {
        var stale = LeaseRules.StaleAfter(leases.Value.Duration);
        return options.ExpireAfter > stale
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"WorkerRegistry__ExpireAfter must be longer than half of Leases__Duration ({stale:c}), " +
                $"when a worker is shown stale (got {options.ExpireAfter:c})");
    }
}
