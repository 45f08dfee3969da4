using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// The internal ResultSinkService workers report through. Every decision is made by
/// <see cref="TaskRecord"/>'s transition methods inside one store write.
/// </summary>
public sealed class ResultSinkApi(TaskStoreWriter writer, TaskMetrics metrics, IOptions<LeasesOptions> leases)
    : ResultSinkService.ResultSinkServiceBase
{
    /// <inheritdoc />
    public override async Task<StartTaskResponse> StartTask(StartTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        var workerId = RequireWorkerId(request.WorkerId);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var lease = leases.Value.Duration;
        var (decision, attempt, queue) = await writer.WriteAsync(async (db, ct) =>
        {
            var task = await db.Tasks.FindAsync([id], ct);
            if (task is null) return (StartDecision.SkipNotFound, 0, TaskQueue.Unspecified);
            var decision = task.Claim(workerId, request.Redelivered, now, lease);
            return (decision, task.Attempts, task.Queue);
        }, context.CancellationToken);
        if (decision == StartDecision.Proceed) metrics.Started(queue);
        var response = new StartTaskResponse { Decision = decision, Attempt = decision == StartDecision.Proceed ? attempt : 0 };
        if (decision == StartDecision.Proceed) response.LeaseExpireTime = TaskMapper.Time(now + (long)lease.TotalMilliseconds);
        return response;
    }

    /// <inheritdoc />
    public override async Task<ReportProgressResponse> ReportProgress(ReportProgressRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        RequireWorkerId(request.WorkerId);
        RequireAttempt(request.Attempt);
        if (double.IsNaN(request.Progress) || request.Progress is < 0 or > 1) RpcErrors.InvalidArgument("progress", "must be between 0 and 1");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var (stop, reason) = await writer.WriteAsync(async (db, ct) =>
        {
            var task = await db.Tasks.FindAsync([id], ct);
            return task is null ? (true, "task was deleted") : task.RecordProgress(request.Attempt, request.Progress, now, leases.Value.Duration);
        }, context.CancellationToken);
        return new ReportProgressResponse { Stop = stop, Reason = reason };
    }

    /// <inheritdoc />
    public override async Task<CompleteTaskResponse> CompleteTask(CompleteTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        RequireWorkerId(request.WorkerId);
        RequireAttempt(request.Attempt);
        if (request.OutcomeCase == CompleteTaskRequest.OutcomeOneofCase.None)
            RpcErrors.InvalidArgument("outcome", "set one of result, error or cancelled");
        if (request.Result is { } r && (r.Length < 0 || r.OffsetA < 0 || r.OffsetB < 0))
            RpcErrors.InvalidArgument("result", "length and offsets must not be negative");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var (state, applied, queue, runTime) = await writer.WriteAsync(async (db, ct) =>
        {
            var task = await db.Tasks.FindAsync([id], ct);
            if (task is null) return ((TaskState?)null, false, TaskQueue.Unspecified, (TimeSpan?)null);
            var applied = task.Complete(request.Attempt, request.Result, request.Error, request.Cancelled, now);
            TimeSpan? run = task.StartedAtMs is { } s ? TimeSpan.FromMilliseconds(now - s) : null;
            return (task.State, applied, task.Queue, run);
        }, context.CancellationToken);
        if (state is null) RpcErrors.TaskNotFound(id);
        if (applied) metrics.Finished(queue, state.Value, runTime);
        return new CompleteTaskResponse { State = state.Value, Applied = applied };
    }

    /// <inheritdoc />
    public override async Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        var workerId = RequireWorkerId(request.WorkerId);
        if (request.Queue == TaskQueue.Unspecified || !System.Enum.IsDefined(request.Queue)) RpcErrors.InvalidArgument("queue", "must be small or large");
        if (request.Concurrency < 1) RpcErrors.InvalidArgument("concurrency", "must be at least 1");
        var running = request.RunningTaskIds.Select(t => RpcErrors.RequireTaskId(t, "running_task_ids")).ToList();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await writer.WriteAsync(async (db, ct) =>
        {
            var worker = await db.Workers.FindAsync([workerId], ct);
            if (worker is null)
            {
                worker = new WorkerRecord { WorkerId = workerId };
                db.Workers.Add(worker);
            }
            worker.Queue = request.Queue;
            worker.Concurrency = request.Concurrency;
            worker.Active = request.Active;
            worker.Processed = request.Processed;
            worker.ControlAddress = request.ControlAddress;
            worker.LastHeartbeatMs = now;
            if (running.Count > 0)
            {
                foreach (var task in await db.Tasks.Where(t => running.Contains(t.Id)).ToListAsync(ct))
                    task.RenewLease(workerId, now, leases.Value.Duration);
            }
            return true;
        }, context.CancellationToken);
        return new HeartbeatResponse { ExpiresAfter = Duration.FromTimeSpan(leases.Value.WorkerExpiry) };
    }

    private static string RequireWorkerId(string workerId)
    {
        if (string.IsNullOrWhiteSpace(workerId)) RpcErrors.InvalidArgument("worker_id", "is required");
        if (workerId.Length > 200) RpcErrors.InvalidArgument("worker_id", "must be at most 200 characters");
        return workerId;
    }

    private static void RequireAttempt(int attempt)
    {
        if (attempt < 1) RpcErrors.InvalidArgument("attempt", "must be the attempt number StartTask returned (1 or more)");
    }
}
