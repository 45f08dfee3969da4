using System.Diagnostics;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.Worker.Options;
using CeleryKube.Worker.State;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace CeleryKube.Worker.Control;

/// <summary>The <c>celery inspect</c> verbs for this worker, served on <see cref="WorkerOptions.ControlPort"/>.</summary>
public sealed class WorkerControlApi(WorkerOptions settings, WorkerState state, IOptions<RabbitMqOptions> rabbitMq, WorkerReport report)
    : WorkerControlService.WorkerControlServiceBase
{
    /// <inheritdoc />
    public override Task<PingResponse> Ping(PingRequest request, ServerCallContext context) =>
        Task.FromResult(new PingResponse { WorkerId = settings.Id, Reply = "pong" });

    /// <inheritdoc />
    public override Task<ActiveQueuesResponse> ActiveQueues(ActiveQueuesRequest request, ServerCallContext context) =>
        Task.FromResult(new ActiveQueuesResponse
        {
            Queues =
            {
                new ConsumedQueue
                {
                    Name = settings.QueueName,
                    Queue = settings.TaskQueue,
                    Exchange = QueueTopology.JobsExchange,
                    RoutingKey = QueueTopology.RoutingKey(settings.TaskQueue),
                    QueueType = QueueTopology.QueueType,
                    Prefetch = settings.Prefetch,
                },
            },
        });

    /// <inheritdoc />
    public override Task<ActiveResponse> Active(ActiveRequest request, ServerCallContext context)
    {
        var response = new ActiveResponse();
        response.Tasks.AddRange(state.Running.Select(t => new ActiveTask
        {
            TaskId = t.TaskId,
            Attempt = t.Attempt,
            Algorithm = t.Algorithm,
            TextALength = t.TextALength,
            TextBLength = t.TextBLength,
            StartTime = Timestamp.FromDateTimeOffset(t.StartTime),
            Progress = t.Progress,
            DeliveryCount = t.DeliveryCount,
        }));
        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public override Task<StatsResponse> Stats(StatsRequest request, ServerCallContext context)
    {
        using var process = Process.GetCurrentProcess();
        return Task.FromResult(new StatsResponse
        {
            WorkerId = settings.Id,
            Queue = settings.TaskQueue,
            Concurrency = settings.Concurrency,
            Prefetch = settings.Prefetch,
            Active = state.Active,
            Processed = state.Processed,
            Succeeded = state.Succeeded,
            Failed = state.Failed,
            Cancelled = state.Cancelled,
            Skipped = state.Skipped,
            Pid = Environment.ProcessId,
            Hostname = Environment.MachineName,
            StartTime = Timestamp.FromDateTimeOffset(state.StartTime),
            Uptime = Duration.FromTimeSpan(DateTimeOffset.UtcNow - state.StartTime),
            MemoryBytes = process.WorkingSet64,
            CpuTime = Duration.FromTimeSpan(process.TotalProcessorTime),
            TimeLimit = Duration.FromTimeSpan(settings.TimeLimit),
            Broker = rabbitMq.Value.RedactedUri,
        });
    }

    /// <inheritdoc />
    public override Task<ReportResponse> Report(ReportRequest request, ServerCallContext context) =>
        Task.FromResult(new ReportResponse { Text = report.Text() });
}
