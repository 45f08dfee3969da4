using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// The internal ResultSinkService workers report through. It validates requests and calls the
/// store's named commands; every decision is made by <see cref="TaskRecord"/>.
/// </summary>
public sealed class ResultSinkApi(TaskStore store, TaskReader reader, TaskMetrics metrics, IOptions<LeasesOptions> leases, ILogger<ResultSinkApi> logger)
    : ResultSinkService.ResultSinkServiceBase
{
    /// <summary>Code points per ReadTaskInput chunk: at most 1 MiB of UTF-8, far below any gRPC message limit.</summary>
    public const int InputChunkCodePoints = 256 * 1024;

    /// <summary>
    /// Streams a claimed task's texts in chunks cut by the database, so neither side ever holds a
    /// whole text in one message (the worker still assembles each text once to run it).
    /// </summary>
    public override async Task ReadTaskInput(ReadTaskInputRequest request, IServerStreamWriter<ReadTaskInputResponse> responseStream,
        ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        RequireAttempt(request.Attempt);
        var found = await reader.GetAsync(id, withInput: false, context.CancellationToken) ?? throw TaskRejection.NotFound(id);
        found.Task.EnsureInputReadableBy(request.Attempt, request.ClaimToken);
        await StreamTextAsync(id, textA: true, found.Task.TextALength, responseStream, context.CancellationToken);
        await StreamTextAsync(id, textA: false, found.Task.TextBLength, responseStream, context.CancellationToken);
    }

    private async Task StreamTextAsync(string id, bool textA, int length, IServerStreamWriter<ReadTaskInputResponse> responseStream,
        CancellationToken cancellationToken)
    {
        for (var start = 0; start < length; start += InputChunkCodePoints)
        {
            var piece = await reader.InputPieceAsync(id, textA, start, InputChunkCodePoints, cancellationToken) ?? throw TaskRejection.NotFound(id);
            await responseStream.WriteAsync(textA ? new ReadTaskInputResponse { TextA = piece } : new ReadTaskInputResponse { TextB = piece },
                cancellationToken);
        }
    }

    /// <summary>
    /// Answers each report on the stream as its unary call would, concurrently (so reports from
    /// many jobs share the writer's commits), each response tagged with its request's id.
    /// </summary>
    public override async Task StreamReports(IAsyncStreamReader<StreamReportsRequest> requestStream,
        IServerStreamWriter<StreamReportsResponse> responseStream, ServerCallContext context)
    {
        using var writeLock = new SemaphoreSlim(1, 1);
        var answering = new List<Task>();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            answering.Add(AnswerAsync(requestStream.Current, responseStream, writeLock, context));
            if (answering.Count >= 256) answering.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(answering);
    }

    private async Task AnswerAsync(StreamReportsRequest request, IServerStreamWriter<StreamReportsResponse> responseStream,
        SemaphoreSlim writeLock, ServerCallContext context)
    {
        var response = new StreamReportsResponse { Id = request.Id };
        try
        {
            switch (request.ReportCase)
            {
                case StreamReportsRequest.ReportOneofCase.Start: response.Start = await StartTask(request.Start, context); break;
                case StreamReportsRequest.ReportOneofCase.Progress: response.Progress = await ReportProgress(request.Progress, context); break;
                case StreamReportsRequest.ReportOneofCase.Complete: response.Complete = await CompleteTask(request.Complete, context); break;
                case StreamReportsRequest.ReportOneofCase.Finish: response.Finish = await FinishTask(request.Finish, context); break;
                default: RpcErrors.InvalidArgument("report", "set one of start, progress, complete or finish"); break;
            }
        }
        catch (Exception ex)
        {
            var status = ErrorInterceptor.ToRpcException(ex, context, logger).Status;
            response.Error = new ReportError { Code = (int)status.StatusCode, Message = status.Detail };
        }
        await writeLock.WaitAsync(context.CancellationToken);
        try
        {
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
        finally
        {
            writeLock.Release();
        }
    }

    /// <inheritdoc />
    public override async Task<StartTaskResponse> StartTask(StartTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        var workerId = RequireWorkerId(request.WorkerId);
        RequireRetries(request.Retries);
        var token = request.ClaimToken.Length > 0 ? RequireClaimToken(request.ClaimToken) : ClaimToken.New();
        var claim = await store.ClaimAsync(id, workerId, request.Retries, request.Redelivered, leases.Value.Duration, token, context.CancellationToken);
        var response = new StartTaskResponse { Decision = claim.Decision };
        if (claim.Decision != StartDecision.Proceed) return response;
        if (!claim.Repeated) metrics.Started(claim.Queue);
        response.Attempt = claim.Attempt;
        response.ClaimToken = token;
        response.LeaseDuration = Duration.FromTimeSpan(leases.Value.Duration);
        return response;
    }

    /// <inheritdoc />
    public override async Task<ReportProgressResponse> ReportProgress(ReportProgressRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        RequireAttempt(request.Attempt);
        if (double.IsNaN(request.Progress) || request.Progress is < 0 or > 1) RpcErrors.InvalidArgument("progress", "must be between 0 and 1");
        var (stop, reason) = await store.ReportProgressAsync(id, request.Attempt, request.ClaimToken, request.Progress, leases.Value.Duration, context.CancellationToken);
        return new ReportProgressResponse { Stop = stop, Reason = reason };
    }

    /// <inheritdoc />
    public override async Task<CompleteTaskResponse> CompleteTask(CompleteTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        RequireAttempt(request.Attempt);
        if (request.OutcomeCase == CompleteTaskRequest.OutcomeOneofCase.None)
            RpcErrors.InvalidArgument("outcome", "set one of result, error or cancelled");
        if (request.Result is { } r && (r.Length < 0 || r.OffsetA < 0 || r.OffsetB < 0))
            RpcErrors.InvalidArgument("result", "length and offsets must not be negative");
        var outcome = await store.CompleteAsync(id, request.Attempt, request.ClaimToken, request.Result, request.Error, request.Cancelled, context.CancellationToken);
        if (outcome.Applied && !outcome.Repeated) metrics.Finished(outcome.Queue, outcome.State, outcome.RunTime);
        return new CompleteTaskResponse { State = outcome.State, Applied = outcome.Applied };
    }

    /// <inheritdoc />
    public override async Task<FinishTaskResponse> FinishTask(FinishTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.TaskId, "task_id");
        var workerId = RequireWorkerId(request.WorkerId);
        RequireRetries(request.Retries);
        if (request.OutcomeCase == FinishTaskRequest.OutcomeOneofCase.None) RpcErrors.InvalidArgument("outcome", "set result or error");
        if (request.Result is { } r && (r.Length < 0 || r.OffsetA < 0 || r.OffsetB < 0))
            RpcErrors.InvalidArgument("result", "length and offsets must not be negative");
        var runTime = request.RunTime?.ToTimeSpan() ?? TimeSpan.Zero;
        if (runTime < TimeSpan.Zero) RpcErrors.InvalidArgument("run_time", "must not be negative");
        if (request.ClaimToken.Length > 0) RequireClaimToken(request.ClaimToken);
        var outcome = await store.FinishAsync(id, workerId, request.Retries, request.Redelivered, runTime, request.Result, request.Error,
            request.ClaimToken, context.CancellationToken);
        if (outcome.Decision == StartDecision.Proceed && !outcome.Repeated)
        {
            metrics.Started(outcome.Queue);
            metrics.Finished(outcome.Queue, outcome.State, runTime);
        }
        return new FinishTaskResponse { Decision = outcome.Decision, Attempt = outcome.Decision == StartDecision.Proceed ? outcome.Attempt : 0, State = outcome.State };
    }

    /// <inheritdoc />
    public override async Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        var workerId = RequireWorkerId(request.WorkerId);
        if (request.Queue == TaskQueue.Unspecified || !System.Enum.IsDefined(request.Queue)) RpcErrors.InvalidArgument("queue", "must be small or large");
        if (request.Concurrency < 1) RpcErrors.InvalidArgument("concurrency", "must be at least 1");
        var running = request.RunningTaskIds.Select(t => RpcErrors.RequireTaskId(t, "running_task_ids")).ToList();
        await store.HeartbeatAsync(new WorkerHeartbeat(workerId, request.Queue, request.Concurrency, request.Active, request.Processed,
            request.ControlAddress, running), leases.Value.Duration, context.CancellationToken);
        return new HeartbeatResponse { LeaseDuration = Duration.FromTimeSpan(leases.Value.Duration) };
    }

    private static string RequireWorkerId(string workerId)
    {
        if (string.IsNullOrWhiteSpace(workerId)) RpcErrors.InvalidArgument("worker_id", "is required");
        if (workerId.Length > 200) RpcErrors.InvalidArgument("worker_id", "must be at most 200 characters");
        return workerId;
    }

    private static string RequireClaimToken(string token)
    {
        if (token.Length < ClaimToken.MinLength)
            RpcErrors.InvalidArgument("claim_token", $"must be a random secret of at least {ClaimToken.MinLength} characters, or empty");
        return token;
    }

    private static void RequireRetries(int retries)
    {
        if (retries < 0) RpcErrors.InvalidArgument("retries", "must be the job message's retries (0 or more)");
    }

    private static void RequireAttempt(int attempt)
    {
        if (attempt < 1) RpcErrors.InvalidArgument("attempt", "must be the attempt number StartTask returned (1 or more)");
    }
}
