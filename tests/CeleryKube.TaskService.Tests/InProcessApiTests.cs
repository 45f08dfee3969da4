using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Persistence;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static CeleryKube.TaskService.Tests.RpcAssert;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// TaskService's and ResultSink's rules (validation, paging, cancel and delete, reports) against
/// task-service in this process: no broker, no child processes, so they run in moments.
/// </summary>
public abstract class InProcessApiTests(InProcessTaskService app)
{
    [Fact]
    public async Task Invalid_submissions_name_the_field()
    {
        AssertFieldViolation(await Refused(() => app.SubmitAsync("", "b"), StatusCode.InvalidArgument), "text_a");
        AssertFieldViolation(await Refused(() => app.SubmitAsync("a", ""), StatusCode.InvalidArgument), "text_b");
        AssertFieldViolation(await Refused(() => app.SubmitAsync("a", "b", algorithm: (LcsAlgorithm)42), StatusCode.InvalidArgument), "algorithm");
        AssertFieldViolation(await Refused(() => app.SubmitAsync("a", "b", key: new string('k', 129)), StatusCode.InvalidArgument), "idempotency_key");
    }

    [Fact]
    public async Task Oversize_text_is_resource_exhausted_naming_the_limit_and_nothing_is_stored()
    {
        var before = (await app.Tasks.ListTasksAsync(new ListTasksRequest { IncludeTotalSize = true })).TotalSize;
        var error = await Refused(() => app.SubmitAsync("a", new string('z', InProcessTaskService.MaxInputChars + 1)), StatusCode.ResourceExhausted);
        Assert.Contains("Limits__MaxInputChars", error.Status.Detail);
        AssertFieldViolation(error, "text_b");
        // Exactly at the limit is fine.
        await app.SubmitAsync("a", new string('z', InProcessTaskService.MaxInputChars));
        Assert.Equal(before + 1, (await app.Tasks.ListTasksAsync(new ListTasksRequest { IncludeTotalSize = true })).TotalSize);
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_same_task()
    {
        var key = Guid.NewGuid().ToString();
        var first = await app.SubmitAsync("abc", "bcd", key);
        var again = await app.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "abc", TextB = "bcd", IdempotencyKey = key });
        Assert.Equal(first.Id, again.Task.Id);
        Assert.True(again.Deduplicated);
        var all = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1000 });
        Assert.Single(all.Tasks, t => t.IdempotencyKey == key);
    }

    [Fact]
    public async Task Get_returns_texts_only_in_the_full_view_and_unknown_ids_are_not_found()
    {
        var task = await app.SubmitAsync("left text", "right text");
        var basic = (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task;
        Assert.Equal("", basic.TextA);
        var full = (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id, View = TaskView.Full })).Task;
        Assert.Equal("left text", full.TextA);
        Assert.Equal("right text", full.TextB);

        await Refused(() => app.Tasks.GetTaskAsync(new GetTaskRequest { Id = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.NotFound);
        AssertFieldViolation(await Refused(() => app.Tasks.GetTaskAsync(new GetTaskRequest { Id = "42" }).ResponseAsync, StatusCode.InvalidArgument), "id");
        await Refused(() => app.Tasks.GetTaskAsync(new GetTaskRequest()).ResponseAsync, StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task List_pages_newest_first_without_gaps_or_repeats_and_filters()
    {
        var mine = new List<string>();
        for (var i = 0; i < 5; i++) mine.Add((await app.SubmitAsync($"page{i}", "x")).Id);
        var seen = new List<LcsTask>();
        var token = "";
        do
        {
            var page = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 2, PageToken = token });
            Assert.True(page.Tasks.Count <= 2);
            seen.AddRange(page.Tasks);
            token = page.NextPageToken;
        } while (token != "");
        Assert.Equal(seen.Count, seen.Select(t => t.Id).Distinct().Count());
        Assert.Equal(seen.OrderByDescending(t => t.CreateTime).Select(t => t.CreateTime), seen.Select(t => t.CreateTime));
        AssertListedByCreation(mine, seen, newestFirst: true);

        var large = await app.Tasks.ListTasksAsync(new ListTasksRequest { Queue = TaskQueue.Large, PageSize = 1000 });
        Assert.All(large.Tasks, t => Assert.Equal(TaskQueue.Large, t.Queue));
        var cancelled = await app.Tasks.ListTasksAsync(new ListTasksRequest { States = { TaskState.Cancelled }, PageSize = 1000 });
        Assert.All(cancelled.Tasks, t => Assert.Equal(TaskState.Cancelled, t.State));

        AssertFieldViolation(await Refused(() => app.Tasks.ListTasksAsync(new ListTasksRequest { PageToken = "garbage" }).ResponseAsync, StatusCode.InvalidArgument), "page_token");
        AssertFieldViolation(await Refused(() => app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 5000 }).ResponseAsync, StatusCode.InvalidArgument), "page_size");
        AssertFieldViolation(await Refused(() => app.Tasks.ListTasksAsync(new ListTasksRequest { States = { (TaskState)77 } }).ResponseAsync, StatusCode.InvalidArgument), "states");
    }

    /// <summary>
    /// The tasks <paramref name="submitted"/> one after another are all in <paramref name="listed"/>,
    /// in creation order: later submits were created no earlier, and the list follows creation time.
    /// Two submits in the same millisecond may be listed either way round (the id breaks the tie).
    /// </summary>
    private static void AssertListedByCreation(List<string> submitted, IEnumerable<LcsTask> listed, bool newestFirst)
    {
        var mine = listed.Where(t => submitted.Contains(t.Id)).ToList();
        Assert.Equal(submitted.Order(), mine.Select(t => t.Id).Order());
        var created = mine.ToDictionary(t => t.Id, t => t.CreateTime);
        Assert.Equal(submitted.Select(id => created[id]).Order(), submitted.Select(id => created[id]));
        var times = mine.Select(t => t.CreateTime).ToList();
        Assert.Equal(newestFirst ? times.OrderDescending() : times.Order(), times);
    }

    [Fact]
    public async Task List_sorts_both_ways_with_tokens_for_its_own_order_and_filters_by_id_prefix()
    {
        var marker = Guid.NewGuid().ToString("N")[..6];
        var mine = new List<string>();
        for (var i = 0; i < 5; i++) mine.Add((await app.SubmitAsync($"sort{i}", marker)).Id);

        async Task<List<LcsTask>> AllPages(bool oldestFirst)
        {
            var seen = new List<LcsTask>();
            var token = "";
            do
            {
                var page = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 2, PageToken = token, OldestFirst = oldestFirst });
                seen.AddRange(page.Tasks);
                token = page.NextPageToken;
            } while (token != "");
            return seen;
        }
        var oldest = await AllPages(oldestFirst: true);
        var newest = await AllPages(oldestFirst: false);
        Assert.Equal(oldest.Count, oldest.Select(t => t.Id).Distinct().Count());
        Assert.Equal(oldest.OrderBy(t => t.CreateTime).Select(t => t.CreateTime), oldest.Select(t => t.CreateTime));
        AssertListedByCreation(mine, oldest, newestFirst: false);
        AssertListedByCreation(mine, newest, newestFirst: true);

        var firstOldest = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1, OldestFirst = true });
        var wrongOrder = await Refused(() => app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1, PageToken = firstOldest.NextPageToken }).ResponseAsync, StatusCode.InvalidArgument);
        AssertFieldViolation(wrongOrder, "page_token");

        // An id's start finds it, typed in upper case too; its full id finds only it.
        var target = mine[2];
        var byPrefix = await app.Tasks.ListTasksAsync(new ListTasksRequest { IdPrefix = target[..8].ToUpperInvariant(), PageSize = 1000, IncludeTotalSize = true });
        Assert.Contains(byPrefix.Tasks, t => t.Id == target);
        Assert.All(byPrefix.Tasks, t => Assert.StartsWith(target[..8], t.Id));
        Assert.Equal(byPrefix.Tasks.Count, byPrefix.TotalSize);
        var exact = await app.Tasks.ListTasksAsync(new ListTasksRequest { IdPrefix = target });
        Assert.Equal([target], exact.Tasks.Select(t => t.Id));
        Assert.Empty((await app.Tasks.ListTasksAsync(new ListTasksRequest { IdPrefix = target, States = { TaskState.Succeeded } })).Tasks);
        AssertFieldViolation(await Refused(() => app.Tasks.ListTasksAsync(new ListTasksRequest { IdPrefix = "ab%" }).ResponseAsync, StatusCode.InvalidArgument), "id_prefix");
        AssertFieldViolation(await Refused(() => app.Tasks.ListTasksAsync(new ListTasksRequest { IdPrefix = target + "0" }).ResponseAsync, StatusCode.InvalidArgument), "id_prefix");
    }

    [Fact]
    public async Task The_dead_lettered_filter_lists_only_tasks_failed_by_the_dead_letter_queue()
    {
        var deadLettered = await app.SubmitAsync("dead", "lettered");
        await app.Services.GetRequiredService<TaskStore>().FailDeadLetteredAsync(deadLettered.Id,
            TaskRecord.DeadLetteredErrorPrefix + "lcs.small: delivered more than 3 times without completing", CancellationToken.None);
        var failedByWorker = await app.SubmitAsync("failed", "by its worker");
        var claim = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = failedByWorker.Id, WorkerId = "w" }, app.Auth);
        await app.Sink.CompleteTaskAsync(new CompleteTaskRequest { TaskId = failedByWorker.Id, Attempt = claim.Attempt, ClaimToken = claim.ClaimToken, Error = "boom" }, app.Auth);

        var dead = await app.Tasks.ListTasksAsync(new ListTasksRequest { DeadLettered = true, PageSize = 1000, IncludeTotalSize = true });
        var listed = Assert.Single(dead.Tasks, t => t.Id == deadLettered.Id);
        Assert.Equal(TaskState.Failed, listed.State);
        Assert.StartsWith("dead-lettered from lcs.small", listed.Error);
        Assert.DoesNotContain(dead.Tasks, t => t.Id == failedByWorker.Id);
        Assert.All(dead.Tasks, t => Assert.Equal(TaskState.Failed, t.State));
        Assert.Equal(dead.Tasks.Count, dead.TotalSize);
        Assert.Empty((await app.Tasks.ListTasksAsync(new ListTasksRequest { DeadLettered = true, Queue = TaskQueue.Large, IdPrefix = deadLettered.Id })).Tasks);
    }

    [Fact]
    public async Task Cancel_a_queued_task_at_once_then_refuses_a_second_cancel()
    {
        var task = await app.SubmitAsync("cancel me", "please");
        var cancelled = (await app.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = task.Id })).Task;
        Assert.Equal(TaskState.Cancelled, cancelled.State);
        Assert.NotNull(cancelled.FinishTime);
        await Refused(() => app.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = task.Id }).ResponseAsync, StatusCode.FailedPrecondition);
        await Refused(() => app.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.NotFound);
        // A worker that gets the message later skips it.
        var claim = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w" }, app.Auth);
        Assert.Equal(StartDecision.SkipCancelled, claim.Decision);
    }

    [Fact]
    public async Task Delete_only_finished_tasks_by_id_or_all()
    {
        var running = await app.SubmitAsync("still", "queued");
        var done = await app.SubmitAsync("done", "soon");
        await app.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = done.Id });

        await Refused(() => app.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { running.Id, done.Id } }).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Equal(done.Id, (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = done.Id })).Task.Id); // nothing was deleted

        var ghost = Guid.NewGuid().ToString();
        var deleted = await app.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { done.Id, ghost } });
        Assert.Equal(1, deleted.DeletedCount);
        Assert.Equal([ghost], deleted.NotFoundIds);
        await Refused(() => app.Tasks.GetTaskAsync(new GetTaskRequest { Id = done.Id }).ResponseAsync, StatusCode.NotFound);

        await app.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = running.Id });
        var all = await app.Tasks.DeleteTasksAsync(new DeleteTasksRequest { AllFinished = true });
        Assert.True(all.DeletedCount >= 1);
        var left = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1000, States = { TaskState.Cancelled, TaskState.Succeeded, TaskState.Failed } });
        Assert.DoesNotContain(left.Tasks, t => t.Id == running.Id);

        await Refused(() => app.Tasks.DeleteTasksAsync(new DeleteTasksRequest()).ResponseAsync, StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Retry_runs_failed_or_cancelled_tasks_again_and_refuses_the_rest()
    {
        var queued = await app.SubmitAsync("still", "queued");
        var cancelled = await app.SubmitAsync("cancelled", "soon");
        await app.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = cancelled.Id });

        var refused = await Refused(() => app.Tasks.RetryTasksAsync(new RetryTasksRequest { Ids = { queued.Id, cancelled.Id } }).ResponseAsync,
            StatusCode.FailedPrecondition);
        Assert.Contains($"{queued.Id} (", refused.Status.Detail);
        Assert.Equal(TaskState.Cancelled, (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = cancelled.Id })).Task.State); // nothing was retried

        var ghost = Guid.NewGuid().ToString();
        var retried = await app.Tasks.RetryTasksAsync(new RetryTasksRequest { Ids = { cancelled.Id, ghost } });
        Assert.Equal(1, retried.RetriedCount);
        Assert.Equal([ghost], retried.NotFoundIds);
        var again = (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = cancelled.Id })).Task;
        Assert.Contains(again.State, new[] { TaskState.Pending, TaskState.Queued });
        Assert.Equal((1, "", (Google.Protobuf.WellKnownTypes.Timestamp?)null), (again.Retries, again.Error, again.FinishTime));
        // The broker's confirm (QUEUED) may land before the cancel and after the retry, or not at all.
        var history = (await app.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = cancelled.Id })).Entries.Where(e => e.State != TaskState.Queued).ToList();
        Assert.Equal([TaskState.Pending, TaskState.Cancelled, TaskState.Pending], history.Select(e => e.State));
        Assert.Equal("retried", history[2].Note);

        AssertFieldViolation(await Refused(() => app.Tasks.RetryTasksAsync(new RetryTasksRequest()).ResponseAsync, StatusCode.InvalidArgument), "ids");
        AssertFieldViolation(await Refused(() => app.Tasks.RetryTasksAsync(new RetryTasksRequest { Ids = { ghost }, AllFailed = true }).ResponseAsync,
            StatusCode.InvalidArgument), "all_failed");
        AssertFieldViolation(await Refused(() => app.Tasks.RetryTasksAsync(new RetryTasksRequest { Ids = { "42" } }).ResponseAsync, StatusCode.InvalidArgument), "ids");
        await Refused(() => app.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = ghost }).ResponseAsync, StatusCode.NotFound);
        AssertFieldViolation(await Refused(() => app.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = "42" }).ResponseAsync, StatusCode.InvalidArgument), "id");
    }

    [Fact]
    public async Task Retrying_all_failed_tasks_gives_each_a_new_run_that_only_its_own_message_claims()
    {
        var task = await app.SubmitAsync("fails once", "then runs");
        var first = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w1" }, app.Auth);
        await app.Sink.CompleteTaskAsync(new CompleteTaskRequest { TaskId = task.Id, Attempt = first.Attempt, ClaimToken = first.ClaimToken, Error = "boom" }, app.Auth);

        Assert.True((await app.Tasks.RetryTasksAsync(new RetryTasksRequest { AllFailed = true })).RetriedCount >= 1);
        var stale = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w2", Redelivered = true }, app.Auth);
        Assert.Equal(StartDecision.SkipSuperseded, stale.Decision);
        var second = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w2", Retries = 1 }, app.Auth);
        Assert.Equal((StartDecision.Proceed, 2), (second.Decision, second.Attempt));
        AssertFieldViolation(await Refused(() => app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w2", Retries = -1 }, app.Auth)
            .ResponseAsync, StatusCode.InvalidArgument), "retries");
    }

    [Fact]
    public async Task A_worker_report_is_applied_once_and_late_reports_never_overwrite_it()
    {
        var task = await app.SubmitAsync("hello world", "yellow");
        var claim = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w1" }, app.Auth);
        Assert.Equal(StartDecision.Proceed, claim.Decision);
        Assert.Equal(1, claim.Attempt);
        // The worker heartbeats from the lease it is told, so task-service's Leases__Duration is the only setting.
        Assert.Equal(new Options.LeasesOptions().Duration, claim.LeaseDuration.ToTimeSpan());
        Assert.Equal(StartDecision.SkipClaimed, (await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w2" }, app.Auth)).Decision);

        var progress = await app.Sink.ReportProgressAsync(new ReportProgressRequest { TaskId = task.Id, Attempt = 1, Progress = 0.5, ClaimToken = claim.ClaimToken }, app.Auth);
        Assert.False(progress.Stop);
        Assert.Equal(0.5, (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task.Progress);

        var result = new LcsResult { Length = 4, Substring = "ello", OffsetA = 1, OffsetB = 1 };
        var complete = new CompleteTaskRequest { TaskId = task.Id, Attempt = 1, Result = result, ClaimToken = claim.ClaimToken };
        Assert.True((await app.Sink.CompleteTaskAsync(complete, app.Auth)).Applied);
        // The same report again (its first answer may have been lost) is answered as the first was,
        // and even with another outcome it overwrites nothing.
        var retried = await app.Sink.CompleteTaskAsync(complete, app.Auth);
        Assert.Equal((true, TaskState.Succeeded), (retried.Applied, retried.State));
        await app.Sink.CompleteTaskAsync(new CompleteTaskRequest(complete) { Error = "other outcome" }, app.Auth);
        var late = await app.Sink.CompleteTaskAsync(new CompleteTaskRequest { TaskId = task.Id, Attempt = 1, Error = "late" }, app.Auth);
        Assert.False(late.Applied);

        var stored = (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task;
        Assert.Equal(TaskState.Succeeded, stored.State);
        Assert.Equal(result, stored.Result);
        Assert.Equal("w1", stored.WorkerId);
        Assert.Equal(1, stored.Attempts);
    }

    [Fact]
    public async Task Reports_without_the_attempts_claim_token_are_refused_and_change_nothing()
    {
        var task = await app.SubmitAsync("forged report", "a report forged");
        var claim = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "worker-a" }, app.Auth);
        Assert.Equal(StartDecision.Proceed, claim.Decision);
        Assert.False(string.IsNullOrEmpty(claim.ClaimToken));

        // Worker B holds the shared ResultSink token and can guess the attempt number, but not A's claim token.
        var forged = new LcsResult { Length = 6, Substring = "forged", OffsetA = 0, OffsetB = 9 };
        foreach (var token in new[] { "", "not-the-token", claim.ClaimToken[..^1] + (claim.ClaimToken[^1] == 'A' ? 'B' : 'A') })
        {
            await Refused(() => app.Sink.CompleteTaskAsync(new CompleteTaskRequest
            {
                TaskId = task.Id, Attempt = claim.Attempt, ClaimToken = token, Result = forged,
            }, app.Auth).ResponseAsync, StatusCode.PermissionDenied);
            await Refused(() => app.Sink.ReportProgressAsync(new ReportProgressRequest
            {
                TaskId = task.Id, Attempt = claim.Attempt, ClaimToken = token, Progress = 0.9,
            }, app.Auth).ResponseAsync, StatusCode.PermissionDenied);
        }
        var untouched = (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task;
        Assert.Equal(TaskState.Running, untouched.State);
        Assert.Equal(0, untouched.Progress);
        Assert.Equal("worker-a", untouched.WorkerId);

        var real = new LcsResult { Length = 6, Substring = "report", OffsetA = 7, OffsetB = 2 };
        Assert.True((await app.Sink.CompleteTaskAsync(new CompleteTaskRequest
        {
            TaskId = task.Id, Attempt = claim.Attempt, ClaimToken = claim.ClaimToken, Result = real,
        }, app.Auth)).Applied);
        Assert.Equal(real, (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task.Result);
    }

    [Fact]
    public async Task Cluster_status_counts_each_workers_running_and_failed_tasks_from_the_store()
    {
        var workerId = "counted-" + Guid.NewGuid().ToString("N")[..8];
        // The heartbeat says it is idle and has processed nothing: the counts below come from the store.
        await app.Sink.HeartbeatAsync(new HeartbeatRequest { WorkerId = workerId, Queue = TaskQueue.Small, Concurrency = 3 }, app.Auth);
        var claims = new List<(string Id, StartTaskResponse Claim)>();
        foreach (var text in new[] { "runs on", "fails on", "also runs on" })
        {
            var task = await app.SubmitAsync(text, workerId);
            claims.Add((task.Id, await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = workerId }, app.Auth)));
        }
        var (failedId, failedClaim) = claims[1];
        Assert.True((await app.Sink.CompleteTaskAsync(new CompleteTaskRequest
        {
            TaskId = failedId, Attempt = failedClaim.Attempt, ClaimToken = failedClaim.ClaimToken, Error = "boom",
        }, app.Auth)).Applied);

        var status = await app.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
        var worker = Assert.Single(status.Workers, w => w.WorkerId == workerId);
        Assert.Equal(0, worker.Active);
        Assert.Equal(2, worker.Running);
        Assert.Equal(1, worker.Failed);
        // Every worker's running tasks are part of the RUNNING count of the same reply.
        Assert.True(status.StateCounts.Single(c => c.State == TaskState.Running).Count >= status.Workers.Sum(w => w.Running));
    }

    [Fact]
    public async Task Invalid_result_sink_calls_name_the_field()
    {
        AssertFieldViolation(await Refused(() => app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = "x", WorkerId = "w" }, app.Auth).ResponseAsync, StatusCode.InvalidArgument), "task_id");
        AssertFieldViolation(await Refused(() => app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = Guid.NewGuid().ToString() }, app.Auth).ResponseAsync, StatusCode.InvalidArgument), "worker_id");
        var id = Guid.NewGuid().ToString();
        AssertFieldViolation(await Refused(() => app.Sink.ReportProgressAsync(new ReportProgressRequest { TaskId = id, Attempt = 1, Progress = 2 }, app.Auth).ResponseAsync, StatusCode.InvalidArgument), "progress");
        AssertFieldViolation(await Refused(() => app.Sink.CompleteTaskAsync(new CompleteTaskRequest { TaskId = id, Attempt = 1 }, app.Auth).ResponseAsync, StatusCode.InvalidArgument), "outcome");
        AssertFieldViolation(await Refused(() => app.Sink.CompleteTaskAsync(new CompleteTaskRequest { TaskId = id, Attempt = 0, Error = "e" }, app.Auth).ResponseAsync, StatusCode.InvalidArgument), "attempt");
        await Refused(() => app.Sink.CompleteTaskAsync(new CompleteTaskRequest { TaskId = id, Attempt = 1, Error = "e" }, app.Auth).ResponseAsync, StatusCode.NotFound);
        AssertFieldViolation(await Refused(() => app.Sink.HeartbeatAsync(new HeartbeatRequest { WorkerId = "w", Concurrency = 1 }, app.Auth).ResponseAsync, StatusCode.InvalidArgument), "queue");
        Assert.Equal(StartDecision.SkipNotFound, (await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = id, WorkerId = "w" }, app.Auth)).Decision);
    }

    [Fact]
    public async Task The_total_is_counted_only_when_asked_for()
    {
        var key = Guid.NewGuid().ToString();
        await app.SubmitAsync("counted", "only on request", key);
        var paging = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1 });
        Assert.Equal(0, paging.TotalSize);
        var counted = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1, IncludeTotalSize = true });
        var all = await app.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1000 });
        Assert.Equal(all.Tasks.Count, counted.TotalSize);
        Assert.True(counted.TotalSize >= 1);
    }
}

[Collection(InProcessTaskServiceCollection.Name)]
public sealed class SqliteInProcessApiTests(SqliteInProcessTaskService app) : InProcessApiTests(app);

[Collection(PostgresCollection.Name)]
public sealed class PostgresInProcessApiTests(PostgresInProcessTaskService app) : InProcessApiTests(app);
