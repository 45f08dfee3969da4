namespace CeleryKube.Protos;

/// <summary>
/// How heartbeats relate to a task's lease. task-service sets the lease (<c>Leases__Duration</c>)
/// and sends it in every StartTask and Heartbeat response; workers heartbeat from it and the
/// cluster view marks workers stale from it, so no second setting has to be kept in step.
/// </summary>
public static class LeaseRules
{
    /// <summary>Heartbeats per lease: a lease outlives five lost heartbeats in a row.</summary>
    public const int HeartbeatsPerLease = 6;

    /// <summary>How often a worker renews its leases and its registration.</summary>
    public static TimeSpan HeartbeatInterval(TimeSpan lease) => lease / HeartbeatsPerLease;

    /// <summary>A worker is shown stale once two heartbeats in a row went missing (half a lease).</summary>
    public static TimeSpan StaleAfter(TimeSpan lease) => 3 * HeartbeatInterval(lease);
}
