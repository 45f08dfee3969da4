using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Broker;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TaskServiceGrpc = CeleryKube.Protos.V1.TaskService;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// The public TaskService: submit, read, list, watch, cancel, delete, cluster status. Every call
/// needs a signed-in caller and destructive ones the operator role when <c>Auth__Enabled</c> is on
/// (see <see cref="ApiAuthentication"/>).
/// </summary>
[Authorize]
public sealed class TaskApi(
    TaskSubmitter submitter,
    IDbContextFactory<TasksDbContext> contexts,
    TaskStoreWriter writer,
    TaskChangeFeed changeFeed,
    ClusterStatusReader clusterStatus) : TaskServiceGrpc.TaskServiceBase
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 1000;

    /// <inheritdoc />
    public override Task<SubmitLcsResponse> SubmitLcs(SubmitLcsRequest request, ServerCallContext context) =>
        submitter.SubmitAsync(request, context.CancellationToken);

    /// <inheritdoc />
    public override async Task<GetTaskResponse> GetTask(GetTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.Id);
        if (!Enum.IsDefined(request.View)) RpcErrors.InvalidArgument("view", $"unknown view {(int)request.View}");
        await using var db = await contexts.CreateDbContextAsync(context.CancellationToken);
        var query = db.Tasks.AsNoTracking().Where(t => t.Id == id);
        if (request.View == TaskView.Full) query = query.Include(t => t.Input);
        var task = await query.SingleOrDefaultAsync(context.CancellationToken);
        if (task is null) RpcErrors.TaskNotFound(id);
        return new GetTaskResponse { Task = task.ToProto(task.Input) };
    }

    /// <inheritdoc />
    public override async Task<ListTasksResponse> ListTasks(ListTasksRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > MaxPageSize) RpcErrors.InvalidArgument("page_size", $"must be between 0 and {MaxPageSize}");
        var states = ValidStates(request.States);
        var queue = ValidQueueFilter(request.Queue, "queue");
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;

        await using var db = await contexts.CreateDbContextAsync(context.CancellationToken);
        var filtered = db.Tasks.AsNoTracking();
        if (states.Count > 0) filtered = filtered.Where(t => states.Contains(t.State));
        if (queue != TaskQueue.Unspecified) filtered = filtered.Where(t => t.Queue == queue);
        var page = filtered;
        if (request.PageToken.Length > 0)
        {
            var (createdAtMs, id) = PageToken.Decode(request.PageToken);
            page = page.Where(t => t.CreatedAtMs < createdAtMs || (t.CreatedAtMs == createdAtMs && string.Compare(t.Id, id) < 0));
        }
        var rows = await page.OrderByDescending(t => t.CreatedAtMs).ThenByDescending(t => t.Id)
            .Take(pageSize + 1).ToListAsync(context.CancellationToken);
        var response = new ListTasksResponse { TotalSize = await filtered.CountAsync(context.CancellationToken) };
        response.Tasks.AddRange(rows.Take(pageSize).Select(t => t.ToProto()));
        if (rows.Count > pageSize)
        {
            var last = rows[pageSize - 1];
            response.NextPageToken = PageToken.Encode(last.CreatedAtMs, last.Id);
        }
        return response;
    }

    /// <inheritdoc />
    public override async Task WatchTasks(WatchTasksRequest request, IServerStreamWriter<WatchTasksResponse> responseStream, ServerCallContext context)
    {
        var ids = request.TaskIds.Select(id => RpcErrors.RequireTaskId(id, "task_ids")).ToList();
        var queue = ValidQueueFilter(request.Queue, "queue");
        var cancellationToken = context.CancellationToken;
        await changeFeed.Ready.WaitAsync(cancellationToken);
        var seen = changeFeed.LastChangeSeq;
        // Tell the client the stream is live before the first change arrives.
        await context.WriteResponseHeadersAsync(new Metadata());
        while (!cancellationToken.IsCancellationRequested)
        {
            var nextCommit = changeFeed.NextCommitAsync();
            var upTo = changeFeed.LastChangeSeq;
            if (upTo > seen)
            {
                await using var db = await contexts.CreateDbContextAsync(cancellationToken);
                var changed = db.Tasks.AsNoTracking().Where(t => t.ChangeSeq > seen && t.ChangeSeq <= upTo);
                if (ids.Count > 0) changed = changed.Where(t => ids.Contains(t.Id));
                if (queue != TaskQueue.Unspecified) changed = changed.Where(t => t.Queue == queue);
                foreach (var task in await changed.OrderBy(t => t.ChangeSeq).ToListAsync(cancellationToken))
                {
                    await responseStream.WriteAsync(new WatchTasksResponse { Task = task.ToProto() }, cancellationToken);
                }
                seen = upTo;
            }
            try
            {
                await nextCommit.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    [Authorize(Policy = ApiAuthentication.OperatorPolicy)]
    public override async Task<CancelTaskResponse> CancelTask(CancelTaskRequest request, ServerCallContext context)
    {
        var id = RpcErrors.RequireTaskId(request.Id);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var (found, cancelled, task) = await writer.WriteAsync(async (db, ct) =>
        {
            var row = await db.Tasks.FindAsync([id], ct);
            if (row is null) return (false, false, (TaskRecord?)null);
            var ok = row.RequestCancel(now);
            return (true, ok, row);
        }, context.CancellationToken);
        if (!found) RpcErrors.TaskNotFound(id);
        if (!cancelled) RpcErrors.FailedPrecondition($"task {id} already finished ({task!.State.ToString().ToUpperInvariant()}); only queued or running tasks can be cancelled");
        return new CancelTaskResponse { Task = task!.ToProto() };
    }

    /// <inheritdoc />
    [Authorize(Policy = ApiAuthentication.OperatorPolicy)]
    public override async Task<DeleteTasksResponse> DeleteTasks(DeleteTasksRequest request, ServerCallContext context)
    {
        if (request.Ids.Count == 0 && !request.AllFinished) RpcErrors.InvalidArgument("ids", "name the tasks to delete, or set all_finished");
        if (request.Ids.Count > 0 && request.AllFinished) RpcErrors.InvalidArgument("all_finished", "give either ids or all_finished, not both");
        var ids = request.Ids.Select(id => RpcErrors.RequireTaskId(id, "ids")).Distinct().ToList();
        var finalStates = TaskStateMachine.FinalStates.ToList();
        var (deleted, notFound, unfinished) = await writer.WriteAsync<(int, List<string>, List<string>)>(async (db, ct) =>
        {
            if (request.AllFinished)
            {
                var all = await db.Tasks.Where(t => finalStates.Contains(t.State)).ExecuteDeleteAsync(ct);
                return (all, new List<string>(), new List<string>());
            }
            var rows = await db.Tasks.Where(t => ids.Contains(t.Id)).Select(t => new { t.Id, t.State }).ToListAsync(ct);
            var running = rows.Where(r => !TaskStateMachine.IsFinal(r.State)).Select(r => r.Id).ToList();
            if (running.Count > 0) return (0, new List<string>(), running);
            var existing = rows.Select(r => r.Id).ToList();
            var count = await db.Tasks.Where(t => existing.Contains(t.Id)).ExecuteDeleteAsync(ct);
            return (count, ids.Except(existing).ToList(), new List<string>());
        }, context.CancellationToken);
        if (unfinished.Count > 0)
            RpcErrors.FailedPrecondition($"tasks that have not finished cannot be deleted (cancel them first): {string.Join(", ", unfinished)}");
        var response = new DeleteTasksResponse { DeletedCount = deleted };
        response.NotFoundIds.AddRange(notFound);
        return response;
    }

    /// <inheritdoc />
    public override Task<GetClusterStatusResponse> GetClusterStatus(GetClusterStatusRequest request, ServerCallContext context)
    {
        if (request.HistorySeconds is < 0 or > 86_400) RpcErrors.InvalidArgument("history_seconds", "must be between 0 and 86400");
        return clusterStatus.ReadAsync(request.HistorySeconds == 0 ? 600 : request.HistorySeconds, context.CancellationToken);
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

    private static TaskQueue ValidQueueFilter(TaskQueue queue, string field)
    {
        if (!Enum.IsDefined(queue)) RpcErrors.InvalidArgument(field, $"unknown queue {(int)queue}");
        return queue;
    }
}
