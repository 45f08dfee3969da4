using System.Diagnostics;
using CeleryKube.Messaging;
using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Broker;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using TaskServiceGrpc = CeleryKube.Protos.V1.TaskService;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// The public TaskService: submit, read, list, watch, cancel, retry, delete, history, cluster status. Every call
/// needs a signed-in caller and destructive ones the operator role when <c>Auth__Enabled</c> is on
/// (see <see cref="ApiAuthentication"/>).
/// </summary>
[Authorize]
public sealed class TaskApi(
    TaskStore store,
    TaskReader reader,
    TaskWatchBroadcast broadcast,
    TaskRouter router,
    BrokerConnection broker,
    OutboxDispatcher dispatcher,
    TaskMetrics metrics,
    IOptions<LimitsOptions> limits,
    SubmitBytesInFlight submitsInFlight,
    ClusterStatusReader clusterStatus) : TaskServiceGrpc.TaskServiceBase
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 1000;

    /// <summary>
    /// Most bytes of tasks one ListTasks page carries; a page that would grow past it ends early with
    /// a next_page_token. Tasks are summaries (<see cref="TaskSummaries"/>), so this holds 1000 typical ones.
    /// </summary>
    public const int MaxPageBytes = 2 * 1024 * 1024;

    /// <summary>Longest accepted idempotency key.</summary>
    public const int MaxIdempotencyKeyLength = 128;

    /// <summary>Validates a submission, routes it, and commits the task, its inputs and its outbox row together.</summary>
    public override async Task<SubmitLcsResponse> SubmitLcs(SubmitLcsRequest request, ServerCallContext context)
    {
        using var held = submitsInFlight.Reserve(request);
        var lengthA = ValidText(request.TextA, "text_a");
        var lengthB = ValidText(request.TextB, "text_b");
        if (!Enum.IsDefined(request.Algorithm)) RpcErrors.InvalidArgument("algorithm", $"unknown algorithm {(int)request.Algorithm}");
        if (request.IdempotencyKey.Length > MaxIdempotencyKeyLength)
            RpcErrors.InvalidArgument("idempotency_key", $"must be at most {MaxIdempotencyKeyLength} characters");
        // The outbox would keep the task safe, but a client should know at once that nothing will run.
        if (!broker.IsOpen) RpcErrors.Unavailable("the message broker (RabbitMQ) is unreachable; the task was not accepted, try again");

        var task = TaskRecord.Submitted(router.Route(lengthA, lengthB), request.Algorithm, lengthA, lengthB,
            request.IdempotencyKey.Length > 0 ? request.IdempotencyKey : null, store.NowMs);
        var traceParent = Activity.Current?.Id;
        var (stored, created, outboxId) = await store.SubmitAsync(task, request.TextA, request.TextB, traceParent, context.CancellationToken);
        if (created)
        {
            var inline = JobMessage.CarriesTexts(lengthA, lengthB);
            dispatcher.Offer(new PendingJob(outboxId, task.Id, task.Queue, task.Algorithm, task.CreatedAtMs, task.State, lengthA, lengthB,
                inline ? request.TextA : null, inline ? request.TextB : null, traceParent, task.Retries));
            metrics.Submitted(stored.Queue);
        }
        return new SubmitLcsResponse { Task = stored.ToProto(), Deduplicated = !created };
    }

    /// <inheritdoc />
    public override async Task<GetTaskResponse> GetTask(GetTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.Id);
        if (!Enum.IsDefined(request.View)) RpcErrors.InvalidArgument("view", $"unknown view {(int)request.View}");
        if (request.View == TaskView.MatchContext)
        {
            var (summary, excerpts) = await reader.GetWithMatchContextAsync(id, context.CancellationToken) ?? throw TaskRejection.NotFound(id);
            return new GetTaskResponse { Task = summary.ToProto(matchContext: excerpts) };
        }
        var found = await reader.GetAsync(id, request.View == TaskView.Full, context.CancellationToken, summary: request.View == TaskView.Summary)
            ?? throw TaskRejection.NotFound(id);
        return new GetTaskResponse { Task = found.Task.ToProto(found.Input) };
    }

    /// <inheritdoc />
    public override async Task<ListTasksResponse> ListTasks(ListTasksRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > MaxPageSize) RpcErrors.InvalidArgument("page_size", $"must be between 0 and {MaxPageSize}");
        var filter = new TaskListFilter(ValidStates(request.States), ValidQueueFilter(request.Queue, "queue"), ValidIdPrefix(request.IdPrefix),
            request.DeadLettered, request.OldestFirst);
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;

        (long, string)? after = request.PageToken.Length > 0 ? PageToken.Decode(request.PageToken, filter.OldestFirst) : null;
        var (rows, total) = await reader.ListAsync(filter, after, pageSize + 1, request.IncludeTotalSize, context.CancellationToken);
        var response = new ListTasksResponse { TotalSize = total ?? 0 };
        var bytes = 0;
        foreach (var row in rows.Take(pageSize))
        {
            var task = row.ToProto();
            bytes += task.CalculateSize();
            // The page ends early rather than grow past the byte cap (always at least one task).
            if (response.Tasks.Count > 0 && bytes > MaxPageBytes) break;
            response.Tasks.Add(task);
        }
        if (rows.Count > response.Tasks.Count)
        {
            var last = rows[response.Tasks.Count - 1];
            response.NextPageToken = PageToken.Encode(last.CreatedAtMs, last.Id, filter.OldestFirst);
        }
        return response;
    }

    /// <summary>Streams task summaries as they change, from the process's one shared read of each commit (<see cref="TaskWatchBroadcast"/>).</summary>
    public override async Task WatchTasks(WatchTasksRequest request, IServerStreamWriter<WatchTasksResponse> responseStream, ServerCallContext context)
    {
        var ids = request.TaskIds.Select(id => RpcErrors.RequireTaskId(id, "task_ids")).ToList();
        var queue = ValidQueueFilter(request.Queue, "queue");
        var cancellationToken = context.CancellationToken;
        using var watcher = broadcast.Subscribe(ids, queue);
        // Tell the client the stream is live before the first change arrives.
        await context.WriteResponseHeadersAsync(WatchStreamHeaders.LiveHeaders());
        try
        {
            await foreach (var update in watcher.Events.ReadAllAsync(cancellationToken))
                await responseStream.WriteAsync(update, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc />
    [Authorize(Policy = ApiAuthentication.OperatorPolicy)]
    public override async Task<CancelTaskResponse> CancelTask(CancelTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.Id);
        var task = await store.CancelAsync(id, context.CancellationToken);
        return new CancelTaskResponse { Task = task.ToProto() };
    }

    /// <inheritdoc />
    [Authorize(Policy = ApiAuthentication.OperatorPolicy)]
    public override async Task<DeleteTasksResponse> DeleteTasks(DeleteTasksRequest request, ServerCallContext context)
    {
        if (IdsOrAll(request.Ids, request.AllFinished, "all_finished", "delete") is not { } ids)
            return new DeleteTasksResponse { DeletedCount = await store.DeleteAllFinishedAsync(context.CancellationToken) };
        var outcome = await store.DeleteAsync(ids, context.CancellationToken);
        var response = new DeleteTasksResponse { DeletedCount = outcome.Deleted };
        response.NotFoundIds.AddRange(outcome.NotFoundIds);
        return response;
    }

    /// <inheritdoc />
    [Authorize(Policy = ApiAuthentication.OperatorPolicy)]
    public override async Task<RetryTasksResponse> RetryTasks(RetryTasksRequest request, ServerCallContext context)
    {
        if (IdsOrAll(request.Ids, request.AllFailed, "all_failed", "retry") is not { } ids)
            return new RetryTasksResponse { RetriedCount = await store.RetryAllFailedAsync(context.CancellationToken) };
        var outcome = await store.RetryAsync(ids, context.CancellationToken);
        var response = new RetryTasksResponse { RetriedCount = outcome.Retried };
        response.NotFoundIds.AddRange(outcome.NotFoundIds);
        return response;
    }

    /// <inheritdoc />
    public override async Task<GetTaskHistoryResponse> GetTaskHistory(GetTaskHistoryRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.Id);
        var entries = await reader.HistoryAsync(id, context.CancellationToken) ?? throw TaskRejection.NotFound(id);
        var response = new GetTaskHistoryResponse();
        response.Entries.AddRange(entries.Select(e => e.ToProto()));
        return response;
    }

    /// <inheritdoc />
    public override Task<GetClusterStatusResponse> GetClusterStatus(GetClusterStatusRequest request, ServerCallContext context)
    {
        if (request.HistorySeconds is < 0 or > 86_400) RpcErrors.InvalidArgument("history_seconds", "must be between 0 and 86400");
        return clusterStatus.ReadAsync(request.HistorySeconds, context.CancellationToken);
    }

    /// <summary>
    /// The rule of the bulk requests (DeleteTasks, RetryTasks): ids, or the flag named
    /// <paramref name="allField"/>, never both nor neither. Returns the valid distinct ids, or null for "all".
    /// </summary>
    private static List<string>? IdsOrAll(IReadOnlyCollection<string> ids, bool all, string allField, string verb)
    {
        if (ids.Count == 0 && !all) RpcErrors.InvalidArgument("ids", $"name the tasks to {verb}, or set {allField}");
        if (ids.Count > 0 && all) RpcErrors.InvalidArgument(allField, $"give either ids or {allField}, not both");
        return all ? null : ids.Select(id => RpcErrors.RequireTaskId(id, "ids")).Distinct().ToList();
    }

    private int ValidText(string text, string field)
    {
        if (text.Length == 0) RpcErrors.InvalidArgument(field, "must not be empty");
        var max = limits.Value.MaxInputChars;
        var length = CodePoints.Count(text);
        if (length > max)
            RpcErrors.ResourceExhausted(field, $"has {length:N0} code points; the limit is {max:N0} (Limits__MaxInputChars)");
        return length;
    }

    private static List<TaskState> ValidStates(IEnumerable<TaskState> states)
    {
        var list = states.Distinct().ToList();
        foreach (var state in list)
        {
            if (state == TaskState.Unspecified || !Enum.IsDefined(state)) RpcErrors.InvalidArgument("states", $"unknown state {(int)state}");
        }
        return list;
    }

    /// <summary>Task ids are printed as lowercase GUIDs; a prefix of one holds nothing a LIKE pattern would read as a wildcard.</summary>
    private static string ValidIdPrefix(string prefix)
    {
        if (prefix.Length > 36 || !prefix.All(c => char.IsAsciiHexDigit(c) || c == '-'))
            RpcErrors.InvalidArgument("id_prefix", "must be the start of a task id: at most 36 hex digits and hyphens");
        return prefix.ToLowerInvariant();
    }

    private static TaskQueue ValidQueueFilter(TaskQueue queue, string field)
    {
        if (!Enum.IsDefined(queue)) RpcErrors.InvalidArgument(field, $"unknown queue {(int)queue}");
        return queue;
    }
}
