using CeleryKube.ServiceDefaults;
using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.Worker.Sink;
using Google.Protobuf.WellKnownTypes;

namespace CeleryKube.Worker.Tests;

/// <summary>The worker heartbeats from the lease task-service announces, not from a setting of its own.</summary>
public sealed class HeartbeatScheduleTests
{
    private readonly FakeResultSink sink = new();
    private readonly HeartbeatSchedule schedule = new();

    private ResultSinkClient Client() =>
        new(new ResultSinkService.ResultSinkServiceClient(sink), new ResultSinkToken("tok", false), schedule);

    [Fact]
    public async Task The_interval_follows_the_lease_in_heartbeat_answers()
    {
        Assert.Equal(HeartbeatSchedule.UntilToldInterval, schedule.Interval);
        sink.Beat = _ => new HeartbeatResponse { LeaseDuration = Duration.FromTimeSpan(TimeSpan.FromMinutes(2)) };

        await Client().HeartbeatAsync(new HeartbeatRequest(), CancellationToken.None);

        Assert.Equal(TimeSpan.FromMinutes(2), schedule.Lease);
        Assert.Equal(TimeSpan.FromMinutes(2) / LeaseRules.HeartbeatsPerLease, schedule.Interval);
    }

    [Fact]
    public async Task A_shorter_lease_in_a_claim_answer_wakes_the_waiting_heartbeat()
    {
        schedule.Observe(Duration.FromTimeSpan(TimeSpan.FromMinutes(1)));
        var waiting = schedule.WaitAsync(CancellationToken.None);
        sink.Start = _ => new StartTaskResponse { Decision = StartDecision.Proceed, Attempt = 1, LeaseDuration = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)) };

        await Client().StartTaskAsync(new StartTaskRequest(), CancellationToken.None);

        // The wait began with a 10 s interval; a lease of 3 s must not wait that long to be renewed.
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromMilliseconds(500), schedule.Interval);
    }

    [Fact]
    public void An_answer_without_a_lease_keeps_the_last_one()
    {
        schedule.Observe(Duration.FromTimeSpan(TimeSpan.FromSeconds(30)));
        schedule.Observe(null);
        schedule.Observe(new Duration());
        Assert.Equal(TimeSpan.FromSeconds(5), schedule.Interval);
    }
}
