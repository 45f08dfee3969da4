using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using static CeleryKube.TaskService.Tests.RpcAssert;

namespace CeleryKube.TaskService.Tests;

/// <summary>TaskService and ResultSink through a real task-service process, on each store engine.</summary>
public abstract class TaskServiceApiTests(TaskServiceFixture fx)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Submit_routes_by_code_points_and_the_broker_confirms_it()
    {
        var small = await fx.SubmitAsync(new string('a', 1000), "a\U0001F600b");
        Assert.Equal(TaskQueue.Small, small.Queue);
        Assert.Equal(1000, small.TextALength);
        Assert.Equal(3, small.TextBLength);
        Assert.Equal(LcsAlgorithm.SuffixArray, small.Algorithm);
        Assert.True(Guid.TryParse(small.Id, out var id));
        Assert.Equal(7, id.Version);

        var large = await fx.SubmitAsync("x", new string('b', 1001));
        Assert.Equal(TaskQueue.Large, large.Queue);
        await fx.Stack.WaitForTaskAsync(large.Id, t => t.State == TaskState.Queued, Wait, "QUEUED");

        // 1000 astral characters are 2000 UTF-16 units but 1000 code points: still small.
        var astral = await fx.SubmitAsync(string.Concat(Enumerable.Repeat("\U0001F600", 1000)), "b");
        Assert.Equal(TaskQueue.Small, astral.Queue);
    }

    [Fact]
    public async Task Watch_streams_changes_as_they_are_committed_and_deletions_too()
    {
        using var cts = new CancellationTokenSource(Wait);
        using var watch = fx.Tasks.WatchTasks(new WatchTasksRequest(), cancellationToken: cts.Token);
        await watch.ResponseHeadersAsync;
        var task = await fx.SubmitAsync("watch", "me");
        await fx.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = task.Id });
        var states = new List<TaskState>();
        while (await watch.ResponseStream.MoveNext(cts.Token))
        {
            var changed = watch.ResponseStream.Current.Task;
            if (changed.Id != task.Id) continue;
            Assert.False(watch.ResponseStream.Current.Deleted);
            states.Add(changed.State);
            if (changed.State == TaskState.Cancelled) break;
        }
        Assert.Equal(TaskState.Cancelled, states[^1]);
        Assert.Contains(TaskState.Pending, states.Concat([TaskState.Pending]));

        await fx.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { task.Id } });
        while (await watch.ResponseStream.MoveNext(cts.Token))
        {
            if (watch.ResponseStream.Current.Task.Id != task.Id) continue;
            Assert.True(watch.ResponseStream.Current.Deleted, "the next event of a deleted task says it was deleted");
            Assert.Equal(TaskQueue.Small, watch.ResponseStream.Current.Task.Queue);
            break;
        }
        AssertFieldViolation(await Refused(async () =>
        {
            using var bad = fx.Tasks.WatchTasks(new WatchTasksRequest { TaskIds = { "x" } });
            await bad.ResponseStream.MoveNext();
        }, StatusCode.InvalidArgument), "task_ids");
    }

    [Fact]
    public async Task After_a_restart_watch_sends_new_changes_only_and_stored_tasks_remain()
    {
        var before = await fx.SubmitAsync("kept across", "a restart");
        Assert.Equal(0, await fx.Stack.TaskService.StopAsync());
        // Everything the new process changes is stamped after this; a replay would be older.
        var restartedAt = DateTime.UtcNow;
        await fx.Stack.StartTaskServiceAsync();
        Assert.Equal(before.Id, (await fx.Tasks.GetTaskAsync(new GetTaskRequest { Id = before.Id })).Task.Id);

        using var cts = new CancellationTokenSource(Wait);
        using var watch = fx.Tasks.WatchTasks(new WatchTasksRequest(), cancellationToken: cts.Token);
        await watch.ResponseHeadersAsync;
        var fresh = await fx.SubmitAsync("only this", "one");
        // Other tasks may legitimately change meanwhile (publishes, lease reaping: those happen in
        // the new process), but nothing that last changed before the restart may be replayed. (A
        // change stamped moments before the watch opened can still arrive: its commit, and so its
        // place in the feed, may come after the watch's starting point.)
        while (await watch.ResponseStream.MoveNext(cts.Token))
        {
            if (watch.ResponseStream.Current.Deleted) continue;
            var changed = watch.ResponseStream.Current.Task;
            Assert.True(changed.UpdateTime.ToDateTime() >= restartedAt, $"replayed {changed.Id} changed at {changed.UpdateTime}, before the restart");
            if (changed.Id == fresh.Id) return;
        }
        Assert.Fail("the stream ended before the new task's event");
    }

    [Fact]
    public async Task The_result_sink_refuses_calls_without_the_right_token_and_keeps_serving()
    {
        var task = await fx.SubmitAsync("token", "test");
        var request = new StartTaskRequest { TaskId = task.Id, WorkerId = "intruder" };
        await Refused(() => fx.Sink.StartTaskAsync(request).ResponseAsync, StatusCode.Unauthenticated);
        await Refused(() => fx.Sink.StartTaskAsync(request, new Metadata { { "authorization", "Bearer wrong" } }).ResponseAsync, StatusCode.Unauthenticated);
        Assert.Equal(TaskState.Queued, (await fx.Stack.WaitForTaskAsync(task.Id, t => t.State == TaskState.Queued, Wait, "QUEUED")).State);
        // The internal service is not reachable on the public port at all.
        var onPublic = new ResultSinkService.ResultSinkServiceClient(fx.Stack.Channel);
        await Refused(() => onPublic.StartTaskAsync(request, fx.Auth).ResponseAsync, StatusCode.Unimplemented);
        Assert.Equal(StartDecision.Proceed, (await fx.Sink.StartTaskAsync(request, fx.Auth)).Decision);
    }

    [Fact]
    public async Task Finish_claims_and_records_a_quick_run_in_one_call_once()
    {
        var task = await fx.SubmitAsync("quick", "quack");
        var result = new LcsResult { Length = 2, Substring = "qu", OffsetA = 0, OffsetB = 0 };
        var finish = new FinishTaskRequest { TaskId = task.Id, WorkerId = "w1", Result = result, RunTime = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMilliseconds(5)) };
        var first = await fx.Sink.FinishTaskAsync(finish, fx.Auth);
        Assert.Equal((StartDecision.Proceed, 1, TaskState.Succeeded), (first.Decision, first.Attempt, first.State));
        var stored = (await fx.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task;
        Assert.Equal(("qu", 1, "w1"), (stored.Result.Substring, stored.Attempts, stored.WorkerId));
        Assert.True(stored.StartTime.ToDateTime() <= stored.FinishTime.ToDateTime());

        // A duplicate message's run changes nothing; neither does a claim of a cancelled task.
        var again = await fx.Sink.FinishTaskAsync(new FinishTaskRequest { TaskId = task.Id, WorkerId = "w2", Error = "other run" }, fx.Auth);
        Assert.Equal((StartDecision.SkipFinished, TaskState.Succeeded), (again.Decision, again.State));
        var cancelled = await fx.SubmitAsync("never", "run");
        await fx.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = cancelled.Id });
        Assert.Equal(StartDecision.SkipCancelled, (await fx.Sink.FinishTaskAsync(new FinishTaskRequest { TaskId = cancelled.Id, WorkerId = "w1", Result = result }, fx.Auth)).Decision);
        Assert.Equal(StartDecision.SkipNotFound, (await fx.Sink.FinishTaskAsync(new FinishTaskRequest { TaskId = Guid.NewGuid().ToString(), WorkerId = "w1", Result = result }, fx.Auth)).Decision);
        AssertFieldViolation(await Refused(() => fx.Sink.FinishTaskAsync(new FinishTaskRequest { TaskId = task.Id, WorkerId = "w1" }, fx.Auth).ResponseAsync,
            StatusCode.InvalidArgument), "outcome");
    }

    [Fact]
    public async Task A_report_retried_after_its_answer_was_lost_is_answered_as_the_first_try_and_recorded_and_counted_once()
    {
        var before = await SettledSmallCountersAsync();
        var quick = await fx.SubmitAsync("quick", "quack");
        var finish = new FinishTaskRequest { TaskId = quick.Id, WorkerId = "w1", Result = new LcsResult { Length = 2, Substring = "qu" }, ClaimToken = ClaimToken.New() };
        var first = await fx.Sink.FinishTaskAsync(finish, fx.Auth);
        var retried = await fx.Sink.FinishTaskAsync(finish, fx.Auth);
        Assert.Equal((StartDecision.Proceed, 1, TaskState.Succeeded), (retried.Decision, retried.Attempt, retried.State));
        Assert.Equal(first, retried);
        var duplicateRun = await fx.Sink.FinishTaskAsync(new FinishTaskRequest(finish) { WorkerId = "w2", ClaimToken = ClaimToken.New() }, fx.Auth);
        Assert.Equal(StartDecision.SkipFinished, duplicateRun.Decision);

        var slow = await fx.SubmitAsync("slow", "flow");
        var start = new StartTaskRequest { TaskId = slow.Id, WorkerId = "w1", ClaimToken = ClaimToken.New() };
        AssertFieldViolation(await Refused(() => fx.Sink.StartTaskAsync(new StartTaskRequest(start) { ClaimToken = "short" }, fx.Auth).ResponseAsync,
            StatusCode.InvalidArgument), "claim_token");
        AssertFieldViolation(await Refused(() => fx.Sink.FinishTaskAsync(new FinishTaskRequest(finish) { ClaimToken = "short" }, fx.Auth).ResponseAsync,
            StatusCode.InvalidArgument), "claim_token");
        // The fixture's lease is short: claim and complete back to back.
        var claim = await fx.Sink.StartTaskAsync(start, fx.Auth);
        Assert.Equal(claim, await fx.Sink.StartTaskAsync(start, fx.Auth));
        var complete = new CompleteTaskRequest { TaskId = slow.Id, Attempt = claim.Attempt, ClaimToken = claim.ClaimToken, Result = new LcsResult { Length = 3, Substring = "low" } };
        Assert.True((await fx.Sink.CompleteTaskAsync(complete, fx.Auth)).Applied);
        Assert.Equal(new CompleteTaskResponse { State = TaskState.Succeeded, Applied = true }, await fx.Sink.CompleteTaskAsync(complete, fx.Auth));
        Assert.Equal((StartDecision.Proceed, 1, start.ClaimToken), (claim.Decision, claim.Attempt, claim.ClaimToken));

        foreach (var id in new[] { quick.Id, slow.Id })
        {
            var history = (await fx.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = id })).Entries;
            Assert.Equal([TaskState.Running, TaskState.Succeeded], history.Select(e => e.State).SkipWhile(s => s != TaskState.Running));
            Assert.Equal(1, (await fx.Tasks.GetTaskAsync(new GetTaskRequest { Id = id })).Task.Attempts);
        }
        Assert.Equal((before.Started + 2, before.Succeeded + 2), await SettledSmallCountersAsync());
    }

    /// <summary>
    /// Attempts started and tasks succeeded on the small queue, from <c>/metrics</c>. The exporter may
    /// answer from a cache for a moment, so this reads until two reads half a second apart agree.
    /// </summary>
    private async Task<(long Started, long Succeeded)> SettledSmallCountersAsync()
    {
        using var http = new HttpClient();
        async Task<(long, long)> ReadAsync()
        {
            var text = await http.GetStringAsync($"http://127.0.0.1:{fx.Stack.MetricsPort}/metrics");
            long Sum(string name, params string[] labels) =>
                System.Text.RegularExpressions.Regex.Matches(text, "^" + name + @"\{([^}]*)\} (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline)
                    .Where(m => labels.All(m.Groups[1].Value.Contains)).Sum(m => long.Parse(m.Groups[2].Value));
            return (Sum("celerykube_tasks_started_total", "queue=\"small\""), Sum("celerykube_tasks_finished_total", "queue=\"small\"", "state=\"succeeded\""));
        }
        var last = await ReadAsync();
        var settled = await Eventually.Until(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            var now = await ReadAsync();
            var same = now == last;
            last = now;
            return same ? Tuple.Create(now) : null;
        }, Wait, "two equal reads of the counters on /metrics");
        return settled.Item1;
    }

    [Fact]
    public async Task Reports_on_one_stream_are_answered_by_id_like_their_unary_calls_and_need_the_token()
    {
        var task = await fx.SubmitAsync("streamed", "dreamed");
        using var cts = new CancellationTokenSource(Wait);
        using var stream = fx.Sink.StreamReports(fx.Auth, cancellationToken: cts.Token);
        await stream.RequestStream.WriteAsync(new StreamReportsRequest { Id = 7, Start = new StartTaskRequest { TaskId = task.Id, WorkerId = "w1" } });
        await stream.RequestStream.WriteAsync(new StreamReportsRequest { Id = 8, Start = new StartTaskRequest { TaskId = "not-a-uuid", WorkerId = "w1" } });
        var answers = new Dictionary<ulong, StreamReportsResponse>();
        while (answers.Count < 2 && await stream.ResponseStream.MoveNext(cts.Token)) answers[stream.ResponseStream.Current.Id] = stream.ResponseStream.Current;
        Assert.Equal((StartDecision.Proceed, 1), (answers[7].Start.Decision, answers[7].Start.Attempt));
        Assert.Equal((int)StatusCode.InvalidArgument, answers[8].Error.Code);
        Assert.Contains("task_id", answers[8].Error.Message);

        await stream.RequestStream.WriteAsync(new StreamReportsRequest
        {
            Id = 9,
            Complete = new CompleteTaskRequest { TaskId = task.Id, Attempt = 1, ClaimToken = answers[7].Start.ClaimToken,
                Result = new LcsResult { Length = 5, Substring = "eamed", OffsetA = 3, OffsetB = 2 } },
        });
        Assert.True(await stream.ResponseStream.MoveNext(cts.Token));
        Assert.Equal((9ul, true, TaskState.Succeeded), (stream.ResponseStream.Current.Id, stream.ResponseStream.Current.Complete.Applied, stream.ResponseStream.Current.Complete.State));
        await stream.RequestStream.CompleteAsync();
        Assert.False(await stream.ResponseStream.MoveNext(cts.Token));

        await Refused(async () =>
        {
            using var anonymous = fx.Sink.StreamReports(cancellationToken: cts.Token);
            await anonymous.ResponseStream.MoveNext(cts.Token);
        }, StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task Only_the_claimed_attempt_reads_the_input_in_order_and_whole_code_points()
    {
        var a = string.Concat(Enumerable.Range(0, 1500).Select(i => i % 3 == 0 ? "\U0001F600" : "a"));
        var b = "b\U0001F600\U0001F600c";
        var task = await fx.SubmitAsync(a, b);
        var claim = await fx.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "worker-a" }, fx.Auth);

        async Task<(string A, string B)> ReadAsync(string token, Metadata? headers = null)
        {
            using var call = fx.Sink.ReadTaskInput(new ReadTaskInputRequest { TaskId = task.Id, Attempt = claim.Attempt, ClaimToken = token }, headers ?? fx.Auth);
            var (readA, readB) = ("", "");
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                if (chunk.ChunkCase == ReadTaskInputResponse.ChunkOneofCase.TextA) readA += chunk.TextA;
                else readB += chunk.TextB;
            }
            return (readA, readB);
        }

        Assert.Equal((a, b), await ReadAsync(claim.ClaimToken));
        await Refused(() => ReadAsync("not-the-token"), StatusCode.PermissionDenied);
        await Refused(() => ReadAsync(claim.ClaimToken, new Metadata()), StatusCode.Unauthenticated);
        await fx.Sink.CompleteTaskAsync(new CompleteTaskRequest
        {
            TaskId = task.Id, Attempt = claim.Attempt, ClaimToken = claim.ClaimToken, Error = "done with it",
        }, fx.Auth);
        await Refused(() => ReadAsync(claim.ClaimToken), StatusCode.FailedPrecondition);
    }

    [Fact]
    public async Task A_claim_whose_worker_vanished_goes_back_to_the_queue()
    {
        var task = await fx.SubmitAsync("lease", "lapse");
        Assert.Equal(StartDecision.Proceed, (await fx.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "ghost" }, fx.Auth)).Decision);
        // No progress and no heartbeat: the 2 s lease lapses and the reaper requeues it.
        var requeued = await fx.Stack.WaitForTaskAsync(task.Id, t => t.State == TaskState.Queued, Wait, "requeued by the lease reaper");
        Assert.Equal(1, requeued.Attempts);
        var next = await fx.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "w2" }, fx.Auth);
        Assert.Equal(StartDecision.Proceed, next.Decision);
        Assert.Equal(2, next.Attempt);
    }

    [Fact]
    public async Task Cluster_status_shows_queues_from_the_broker_and_workers_from_heartbeats()
    {
        await fx.SubmitAsync("depth", "check");
        var beat = await fx.Sink.HeartbeatAsync(new HeartbeatRequest { WorkerId = "hb-worker", Queue = TaskQueue.Large, Concurrency = 2, Active = 1, Processed = 7, ControlAddress = "http://127.0.0.1:1" }, fx.Auth);
        Assert.Equal(TaskServiceFixture.Lease, beat.LeaseDuration.ToTimeSpan());
        var status = await fx.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest { HistorySeconds = 60 });
        Assert.True(status.BrokerAvailable);
        Assert.Equal(["lcs.small", "lcs.large", "lcs.dead"], status.Queues.Select(q => q.Name));
        var small = await Eventually.Until(async () =>
        {
            var s = await fx.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
            return s.Queues.Single(q => q.Name == "lcs.small") is { Depth: > 0 } q ? q : null;
        }, Wait, "lcs.small to hold messages");
        Assert.Equal(0, small.Consumers);
        var worker = Assert.Single(status.Workers, w => w.WorkerId == "hb-worker");
        Assert.Equal(TaskQueue.Large, worker.Queue);
        Assert.Equal(7, worker.Processed);
        Assert.False(worker.Stale);
        Assert.Equal(7 * 2, status.Throughput.Count); // 60 s of 10 s buckets plus the current one, per queue
        Assert.Empty((await fx.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest())).Throughput);

        // Its heartbeats stopped: two missed ones (half the lease) mark it stale, long before it expires.
        var missing = await Eventually.Until(async () =>
            (await fx.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest())).Workers.SingleOrDefault(w => w.WorkerId == "hb-worker" && w.Stale), Wait, "hb-worker to be marked stale");
        Assert.True(DateTime.UtcNow - missing.LastHeartbeatTime.ToDateTime() >= LeaseRules.StaleAfter(TaskServiceFixture.Lease));
    }

    [Fact]
    public async Task Metrics_are_served_in_prometheus_format()
    {
        await fx.SubmitAsync("metrics", "please");
        using var http = new HttpClient();
        var text = await Eventually.Until(async () =>
        {
            var body = await http.GetStringAsync($"http://127.0.0.1:{fx.Stack.MetricsPort}/metrics");
            return body.Contains("celerykube_tasks_submitted_total") ? body : null;
        }, Wait, "the submitted counter on /metrics");
        Assert.Contains("queue=\"small\"", text);
        // The gauges read the broker and the store when scraped: no workers consume here, so lcs.small holds the job.
        var depth = await Eventually.Until(async () =>
            System.Text.RegularExpressions.Regex.Match(await http.GetStringAsync($"http://127.0.0.1:{fx.Stack.MetricsPort}/metrics"),
                @"celerykube_queue_depth\{[^}]*queue=""lcs\.small""[^}]*\} (\d+)") is { Success: true } m ? m.Groups[1].Value : null,
            Wait, "lcs.small's depth on /metrics");
        Assert.True(int.Parse(depth) > 0, $"lcs.small depth {depth}");
        Assert.Matches(@"celerykube_tasks_running(\{[^}]*\})? \d+", text);
    }
}

[Collection(TaskServiceCollection.Name)]
public sealed class SqliteTaskServiceApiTests(SqliteTaskServiceFixture fx) : TaskServiceApiTests(fx);

[Collection(PostgresCollection.Name)]
public sealed class PostgresTaskServiceApiTests(PostgresTaskServiceFixture fx) : TaskServiceApiTests(fx);
