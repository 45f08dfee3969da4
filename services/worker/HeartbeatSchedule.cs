using CeleryKube.Protos;
using Google.Protobuf.WellKnownTypes;

namespace CeleryKube.Worker;

/// <summary>
/// The heartbeat interval, derived from the lease task-service announced last (in StartTask and
/// Heartbeat responses) by <see cref="LeaseRules.HeartbeatInterval"/>, so <c>Leases__Duration</c>
/// set on task-service alone is enough. A shorter lease wakes a heartbeat already waiting.
/// </summary>
public sealed class HeartbeatSchedule
{
    /// <summary>Until task-service has told a lease (its first answer), heartbeats are tried this often.</summary>
    public static readonly TimeSpan UntilToldInterval = TimeSpan.FromSeconds(1);

    private long leaseTicks;
    private TaskCompletionSource shortened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The lease task-service announced last; null before its first answer.</summary>
    public TimeSpan? Lease => Interlocked.Read(ref leaseTicks) is > 0 and var ticks ? TimeSpan.FromTicks(ticks) : null;

    /// <summary>The time between two heartbeats now.</summary>
    public TimeSpan Interval => Lease is { } lease ? LeaseRules.HeartbeatInterval(lease) : UntilToldInterval;

    /// <summary>Takes the lease from a response; a missing or non-positive one changes nothing.</summary>
    public void Observe(Duration? lease)
    {
        if (lease is null || lease.ToTimeSpan() is not { Ticks: > 0 } told) return;
        var before = Interlocked.Exchange(ref leaseTicks, told.Ticks);
        if (before != 0 && told.Ticks >= before) return;
        Interlocked.Exchange(ref shortened, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Waits one <see cref="Interval"/>, or less when a shorter lease is announced meanwhile.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var wake = Volatile.Read(ref shortened).Task;
        try
        {
            await wake.WaitAsync(Interval, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }
}
