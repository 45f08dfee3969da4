using CeleryKube.ServiceDefaults;
using System.Collections.Concurrent;
using CeleryKube.Protos.V1;
using CeleryKube.Worker.Consuming;
using CeleryKube.Worker.Execution;
using CeleryKube.Worker.Options;
using CeleryKube.Worker.Sink;
using CeleryKube.Worker.State;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace CeleryKube.Worker.Tests;

/// <summary>One delivery end to end against an in-memory ResultSink: claim, run, report, then settle.</summary>
public sealed class JobHandlerTests
{
    private readonly FakeResultSink sink = new();
    private readonly WorkerState state = new();
    private readonly ConcurrentQueue<(DeliveryVerdict Verdict, int CallsBefore)> settled = new();

    private static WorkerOptions Settings(Action<WorkerOptions>? change = null)
    {
        var settings = new WorkerOptions
        {
            Id = "worker-test", Queue = "small", Concurrency = 2, TimeLimit = TimeSpan.FromSeconds(30), ShutdownGrace = TimeSpan.FromSeconds(5),
            AdvertisedAddress = "http://127.0.0.1:5003", FinishWindow = TimeSpan.Zero,
        };
        change?.Invoke(settings);
        return settings;
    }

    private JobHandler Handler(WorkerOptions? settings = null)
    {
        settings ??= Settings();
        var client = new ResultSinkClient(new ResultSinkService.ResultSinkServiceClient(sink), new ResultSinkToken("tok", false), new HeartbeatSchedule());
        var budgets = new SinkRetryBudgets(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(10));
        return new JobHandler(settings, state, new WorkerMetrics(settings, state), client, budgets, NullLogger<JobHandler>.Instance);
    }

    private Delivery Delivery(byte[] body, bool redelivered = false) =>
        new(body, redelivered, 1, default, verdict =>
        {
            settled.Enqueue((verdict, sink.Calls.Count));
            return Task.CompletedTask;
        });

    private static byte[] Job(string a = "xxbananayy", string b = "zbananaz", LcsAlgorithm algorithm = LcsAlgorithm.SuffixArray) =>
        new LcsJob { TaskId = "3f0c2a52-3a8e-4d1e-9a53-2f2d0c1b9e11", TextA = a, TextB = b, Algorithm = algorithm }.ToByteArray();

    private DeliveryVerdict OnlyVerdict() => Assert.Single(settled).Verdict;

    [Fact]
    public async Task Success_is_reported_then_acknowledged()
    {
        await Handler().HandleAsync(Delivery(Job(), redelivered: true), CancellationToken.None);

        var start = Assert.Single(sink.Requests<StartTaskRequest>());
        Assert.Equal("worker-test", start.WorkerId);
        Assert.True(start.Redelivered);
        var complete = Assert.Single(sink.Requests<CompleteTaskRequest>());
        Assert.Equal(CompleteTaskRequest.OutcomeOneofCase.Result, complete.OutcomeCase);
        Assert.Equal(new Protos.V1.LcsResult { Length = 6, Substring = "banana", OffsetA = 2, OffsetB = 1 }, complete.Result);
        Assert.Equal(1, complete.Attempt);
        // Acks-late: the ack comes only after CompleteTask was answered.
        var (verdict, callsBefore) = Assert.Single(settled);
        Assert.Equal(DeliveryVerdict.Ack, verdict);
        Assert.Equal(sink.Calls.Count, callsBefore);
        Assert.Equal(1, state.Succeeded);
        Assert.Equal(0, state.Active);
        Assert.All(sink.Authorizations, header => Assert.Equal("Bearer tok", header));
    }

    [Theory]
    [InlineData(StartDecision.SkipCancelled)]
    [InlineData(StartDecision.SkipFinished)]
    [InlineData(StartDecision.SkipClaimed)]
    [InlineData(StartDecision.SkipNotFound)]
    public async Task Skip_decisions_are_acknowledged_without_running(StartDecision decision)
    {
        sink.Start = _ => new StartTaskResponse { Decision = decision };
        await Handler().HandleAsync(Delivery(Job()), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
        Assert.Empty(sink.Requests<CompleteTaskRequest>());
        Assert.Equal(1, state.Skipped);
    }

    [Fact]
    public async Task Unparseable_message_is_dead_lettered_without_calls()
    {
        await Handler().HandleAsync(Delivery([0xff, 0xff, 0xff]), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.DeadLetter, OnlyVerdict());
        Assert.Empty(sink.Calls);
    }

    [Fact]
    public async Task Message_without_task_id_is_dead_lettered()
    {
        await Handler().HandleAsync(Delivery(new LcsJob { TextA = "a", TextB = "a" }.ToByteArray()), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.DeadLetter, OnlyVerdict());
    }

    [Fact]
    public async Task Time_limit_is_reported_as_a_failure_with_the_reason()
    {
        var random = new Random(3);
        string Text() => string.Concat(Enumerable.Range(0, 40_000).Select(_ => random.Next(2) == 0 ? 'a' : 'b'));
        var settings = Settings(s => s.TimeLimit = TimeSpan.FromMilliseconds(300));
        await Handler(settings).HandleAsync(Delivery(Job(Text(), Text(), LcsAlgorithm.BruteForce)), CancellationToken.None);
        var complete = Assert.Single(sink.Requests<CompleteTaskRequest>());
        Assert.Equal("time limit of 00:00:00.3000000 exceeded", complete.Error);
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
        Assert.Equal(1, state.Failed);
    }

    [Fact]
    public async Task Transient_complete_failures_are_retried_before_the_ack()
    {
        var failures = 2;
        sink.Complete = _ => Interlocked.Decrement(ref failures) >= 0
            ? throw new RpcException(new Status(StatusCode.Unavailable, "task-service restarting"))
            : new CompleteTaskResponse { State = TaskState.Succeeded, Applied = true };
        await Handler().HandleAsync(Delivery(Job()), CancellationToken.None);
        Assert.Equal(3, sink.Requests<CompleteTaskRequest>().Count);
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
    }

    [Fact]
    public async Task Result_sink_that_stays_unreachable_returns_the_job_without_spending_its_delivery_limit()
    {
        sink.Complete = _ => throw new RpcException(new Status(StatusCode.Unavailable, "down"));
        await Handler().HandleAsync(Delivery(Job()), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.Return, OnlyVerdict());
        Assert.Equal(0, state.Processed);
        Assert.Equal(0, state.Active);
    }

    [Fact]
    public async Task Claim_refused_for_a_reason_of_the_worker_returns_the_job()
    {
        sink.Start = _ => throw new RpcException(new Status(StatusCode.Unauthenticated, "the ResultSink token is wrong"));
        await Handler().HandleAsync(Delivery(Job()), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.Return, OnlyVerdict());
        Assert.Single(sink.Requests<StartTaskRequest>());
    }

    [Fact]
    public async Task Claim_refused_as_invalid_dead_letters_the_job()
    {
        sink.Start = _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "task_id is not a UUID"));
        await Handler().HandleAsync(Delivery(Job()), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.DeadLetter, OnlyVerdict());
    }

    [Fact]
    public async Task Stop_answer_to_progress_reports_cancellation()
    {
        sink.Progress = _ => new ReportProgressResponse { Stop = true, Reason = "cancellation requested" };
        var random = new Random(5);
        string Text() => string.Concat(Enumerable.Range(0, 40_000).Select(_ => random.Next(2) == 0 ? 'a' : 'b'));
        await Handler().HandleAsync(Delivery(Job(Text(), Text(), LcsAlgorithm.BruteForce)), CancellationToken.None);
        var complete = Assert.Single(sink.Requests<CompleteTaskRequest>());
        Assert.True(complete.Cancelled);
        Assert.Equal(1, state.Cancelled);
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
    }

    [Fact]
    public async Task Shutdown_returns_a_running_job_without_reporting()
    {
        var random = new Random(9);
        string Text() => string.Concat(Enumerable.Range(0, 40_000).Select(_ => random.Next(2) == 0 ? 'a' : 'b'));
        using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Handler().HandleAsync(Delivery(Job(Text(), Text(), LcsAlgorithm.BruteForce)), shutdown.Token);
        Assert.Empty(sink.Requests<CompleteTaskRequest>());
        Assert.Equal(DeliveryVerdict.Return, OnlyVerdict());
    }

    [Fact]
    public async Task A_job_that_ends_within_the_finish_window_is_claimed_and_reported_in_one_call_then_acknowledged()
    {
        var settings = Settings(s => s.FinishWindow = TimeSpan.FromSeconds(10));
        await Handler(settings).HandleAsync(Delivery(Job(), redelivered: true), CancellationToken.None);

        var finish = Assert.Single(sink.Requests<FinishTaskRequest>());
        Assert.Equal(("worker-test", true), (finish.WorkerId, finish.Redelivered));
        Assert.Equal(new Protos.V1.LcsResult { Length = 6, Substring = "banana", OffsetA = 2, OffsetB = 1 }, finish.Result);
        Assert.True(finish.RunTime.ToTimeSpan() < settings.FinishWindow);
        Assert.Empty(sink.Requests<StartTaskRequest>());
        Assert.Empty(sink.Requests<CompleteTaskRequest>());
        var (verdict, callsBefore) = Assert.Single(settled);
        Assert.Equal(DeliveryVerdict.Ack, verdict);
        Assert.Equal(sink.Calls.Count, callsBefore);
        Assert.Equal(1, state.Succeeded);
    }

    [Fact]
    public async Task A_finish_report_retried_after_a_lost_answer_brings_the_same_claim_token_and_the_next_run_a_new_one()
    {
        var failures = 1;
        sink.Finish = _ => Interlocked.Decrement(ref failures) >= 0
            ? throw new RpcException(new Status(StatusCode.Unavailable, "task-service died before it answered"))
            : new FinishTaskResponse { Decision = StartDecision.Proceed, Attempt = 1, State = TaskState.Succeeded };
        var handler = Handler(Settings(s => s.FinishWindow = TimeSpan.FromSeconds(10)));
        await handler.HandleAsync(Delivery(Job()), CancellationToken.None);
        await handler.HandleAsync(Delivery(Job()), CancellationToken.None);

        var tokens = sink.Requests<FinishTaskRequest>().Select(r => r.ClaimToken).ToList();
        Assert.Equal(3, tokens.Count);
        Assert.All(tokens, t => Assert.True(t.Length >= Protos.ClaimToken.MinLength, $"claim token '{t}' is too short to be a secret"));
        Assert.Equal(tokens[0], tokens[1]);
        Assert.NotEqual(tokens[0], tokens[2]);
        Assert.Equal(2, state.Succeeded);
    }

    [Fact]
    public async Task A_claim_retried_after_a_lost_answer_brings_the_same_claim_token_and_reports_with_the_answered_one()
    {
        // The answer's token is the one to report with: a task-service from before workers made
        // tokens answers with its own.
        const string answered = "the-token-task-service-answered-with";
        var failures = 1;
        sink.Start = r => Interlocked.Decrement(ref failures) >= 0
            ? throw new RpcException(new Status(StatusCode.Unavailable, "task-service died before it answered"))
            : new StartTaskResponse { Decision = StartDecision.Proceed, Attempt = 1, ClaimToken = answered };
        await Handler().HandleAsync(Delivery(Job()), CancellationToken.None);

        var tokens = sink.Requests<StartTaskRequest>().Select(r => r.ClaimToken).ToList();
        Assert.Equal(2, tokens.Count);
        Assert.True(tokens[0].Length >= Protos.ClaimToken.MinLength, $"claim token '{tokens[0]}' is too short to be a secret");
        Assert.Equal(tokens[0], tokens[1]);
        Assert.Equal(answered, Assert.Single(sink.Requests<CompleteTaskRequest>()).ClaimToken);
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
    }

    [Theory]
    [InlineData(StartDecision.SkipCancelled)]
    [InlineData(StartDecision.SkipClaimed)]
    public async Task A_finished_run_the_claim_refuses_is_acknowledged_and_not_counted(StartDecision decision)
    {
        sink.Finish = _ => new FinishTaskResponse { Decision = decision, State = TaskState.Running };
        await Handler(Settings(s => s.FinishWindow = TimeSpan.FromSeconds(10))).HandleAsync(Delivery(Job()), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
        Assert.Equal((0, 1L), (state.Active, state.Skipped));
        Assert.Equal(0, state.Succeeded);
    }

    [Fact]
    public async Task A_finished_run_whose_report_stays_unreachable_is_returned_without_spending_its_delivery_limit()
    {
        sink.Finish = _ => throw new RpcException(new Status(StatusCode.Unavailable, "down"));
        await Handler(Settings(s => s.FinishWindow = TimeSpan.FromSeconds(10))).HandleAsync(Delivery(Job()), CancellationToken.None);
        Assert.Equal(DeliveryVerdict.Return, OnlyVerdict());
        Assert.Equal(0, state.Processed);
    }

    [Fact]
    public async Task A_job_still_running_after_the_window_is_claimed_then_completed_on_the_full_path()
    {
        var random = new Random(11);
        string Text() => string.Concat(Enumerable.Range(0, 3_000).Select(_ => random.Next(2) == 0 ? 'a' : 'b'));
        var settings = Settings(s => s.FinishWindow = TimeSpan.FromTicks(1));
        await Handler(settings).HandleAsync(Delivery(Job(Text(), Text(), LcsAlgorithm.BruteForce)), CancellationToken.None);

        Assert.Empty(sink.Requests<FinishTaskRequest>());
        Assert.Equal(["StartTask", "CompleteTask"], sink.Calls.Select(c => c.Method).Where(m => m != "ReportProgress"));
        Assert.Equal(CompleteTaskRequest.OutcomeOneofCase.Result, Assert.Single(sink.Requests<CompleteTaskRequest>()).OutcomeCase);
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
    }

    [Fact]
    public async Task A_job_still_running_whose_claim_is_refused_stops_without_a_report()
    {
        sink.Start = _ => new StartTaskResponse { Decision = StartDecision.SkipCancelled };
        var random = new Random(13);
        string Text() => string.Concat(Enumerable.Range(0, 40_000).Select(_ => random.Next(2) == 0 ? 'a' : 'b'));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Handler(Settings(s => s.FinishWindow = TimeSpan.FromMilliseconds(20)))
            .HandleAsync(Delivery(Job(Text(), Text(), LcsAlgorithm.BruteForce)), CancellationToken.None);
        // The refused run was stopped, not left to reach its 30 s time limit.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Empty(sink.Requests<CompleteTaskRequest>());
        Assert.Empty(sink.Requests<FinishTaskRequest>());
        Assert.Equal(DeliveryVerdict.Ack, OnlyVerdict());
    }

    [Fact]
    public void Complete_request_carries_each_outcome()
    {
        var running = new RunningTask("t", 3, LcsAlgorithm.SuffixArray, 1, 1, DateTimeOffset.UtcNow, 1);
        Assert.Equal("boom", JobHandler.CompleteRequest(running, new JobOutcome.Failed("boom")).Error);
        Assert.True(JobHandler.CompleteRequest(running, new JobOutcome.Cancelled("x")).Cancelled);
        var success = JobHandler.CompleteRequest(running, new JobOutcome.Succeeded(new Protos.V1.LcsResult { Length = 1, Substring = "a" }));
        Assert.Equal(("t", 3, "a"), (success.TaskId, success.Attempt, success.Result.Substring));
        Assert.Throws<ArgumentOutOfRangeException>(() => JobHandler.CompleteRequest(running, new JobOutcome.Abandoned()));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(0L, 1)]
    [InlineData(2L, 3)]
    [InlineData(4, 5)]
    public void Delivery_count_reads_the_quorum_queue_header(object? header, int expected)
    {
        var headers = header is null ? null : new Dictionary<string, object?> { ["x-delivery-count"] = header };
        Assert.Equal(expected, JobConsumer.DeliveryCount(headers));
    }

    [Fact]
    public void Heartbeat_lists_the_running_tasks()
    {
        state.Add(new RunningTask("a", 1, LcsAlgorithm.SuffixArray, 1, 1, DateTimeOffset.UtcNow, 1));
        var client = new ResultSinkClient(new ResultSinkService.ResultSinkServiceClient(sink), new ResultSinkToken("tok", false), new HeartbeatSchedule());
        var request = new HeartbeatLoop(Settings(), state, client, new HeartbeatSchedule(), NullLogger<HeartbeatLoop>.Instance).Request();
        Assert.Equal(("worker-test", TaskQueue.Small, 2, 1, "http://127.0.0.1:5003"),
            (request.WorkerId, request.Queue, request.Concurrency, request.Active, request.ControlAddress));
        Assert.Equal(["a"], request.RunningTaskIds);
    }
}
