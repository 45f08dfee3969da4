using CeleryKube.Protos.V1;
using CeleryKube.Worker.Options;
using CeleryKube.Worker.Sink;
using CeleryKube.Worker.State;

namespace CeleryKube.Worker;

/// <summary>
/// Registers the worker with task-service and renews the leases of its running tasks several times
/// per lease (<see cref="HeartbeatSchedule"/>), so the reaper never takes a live task away.
/// </summary>
public sealed class HeartbeatLoop(WorkerOptions settings, WorkerState state, ResultSinkClient sink, HeartbeatSchedule schedule,
    ILogger<HeartbeatLoop> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (true)
        {
            try
            {
                await sink.HeartbeatAsync(Request(), stoppingToken);
                if (failing) logger.LogInformation("heartbeats reach the ResultSink again");
                failing = false;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Warn once per outage, not every interval.
                if (!failing) logger.LogWarning("heartbeat failed ({Error}); retrying every {Interval:c}", SinkRetry.Describe(ex), schedule.Interval);
                failing = true;
            }
            await schedule.WaitAsync(stoppingToken);
        }
    }

    /// <summary>The heartbeat as of now.</summary>
    public HeartbeatRequest Request()
    {
        var running = state.Running;
        var request = new HeartbeatRequest
        {
            WorkerId = settings.Id,
            Queue = settings.TaskQueue,
            Concurrency = settings.Concurrency,
            Active = running.Count,
            Processed = state.Processed,
            ControlAddress = settings.AdvertisedAddress,
        };
        request.RunningTaskIds.AddRange(running.Select(t => t.TaskId));
        return request;
    }
}
