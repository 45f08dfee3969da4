using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Net.Client;

namespace CeleryKube.IntegrationTests;

public sealed class EndToEndTests(PipelineFixture fx) : IClassFixture<PipelineFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_small_task_runs_on_the_small_worker_with_the_right_result()
    {
        var submitted = (await fx.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "the quick brown fox", TextB = "a quick brown dog" })).Task;
        Assert.Equal(TaskQueue.Small, submitted.Queue);
        var done = await fx.Stack.WaitForFinalAsync(submitted.Id, Wait);
        Assert.Equal(TaskState.Succeeded, done.State);
        Assert.Equal(new LcsResult { Length = 13, Substring = " quick brown ", OffsetA = 3, OffsetB = 1 }, done.Result);
        Assert.Equal(fx.Stack.Workers[0].Environment["Worker__Id"], done.WorkerId);
        Assert.Equal(1, done.Attempts);
        Assert.NotNull(done.StartTime);
        Assert.True(done.FinishTime.ToDateTime() >= done.StartTime.ToDateTime());
    }

    [Fact]
    public async Task A_large_task_runs_on_the_large_worker_with_the_right_result()
    {
        var random = new Random(7);
        var a = new string(Enumerable.Range(0, 3000).Select(_ => "ACGT"[random.Next(4)]).ToArray());
        var needle = "GATTACA-CELERYKUBE-GATTACA";
        var b = a[..500].Replace('A', 'a') + needle + a[1000..1400].Replace('C', 'c');
        var textA = a[..2000] + needle + a[2000..];
        var submitted = (await fx.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = textA, TextB = b })).Task;
        Assert.Equal(TaskQueue.Large, submitted.Queue);
        var done = await fx.Stack.WaitForFinalAsync(submitted.Id, Wait);
        Assert.Equal(TaskState.Succeeded, done.State);
        Assert.Equal(fx.Stack.Workers[1].Environment["Worker__Id"], done.WorkerId);
        Assert.True(done.Result.Length >= needle.Length);
        Assert.Equal(textA.Substring(done.Result.OffsetA, done.Result.Length), done.Result.Substring);
        Assert.Equal(b.Substring(done.Result.OffsetB, done.Result.Length), done.Result.Substring);
    }

    [Fact]
    public async Task Every_algorithm_gives_the_same_answer_end_to_end()
    {
        var results = new List<LcsResult>();
        foreach (var algorithm in new[] { LcsAlgorithm.SuffixArray, LcsAlgorithm.DynamicProgramming, LcsAlgorithm.BruteForce })
        {
            var t = (await fx.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "xabcabcy\U0001F600z", TextB = "abcab\U0001F600zq", Algorithm = algorithm })).Task;
            var done = await fx.Stack.WaitForFinalAsync(t.Id, Wait);
            Assert.Equal(TaskState.Succeeded, done.State);
            Assert.Equal(algorithm, done.Algorithm);
            results.Add(done.Result);
        }
        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.Equal(5, results[0].Length);
    }

    [Fact]
    public async Task Workers_register_through_heartbeats_and_the_broker_shows_their_consumers()
    {
        var status = await Eventually.Until(async () =>
        {
            var s = await fx.Stack.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
            return s.Workers.Count >= 2 ? s : null;
        }, Wait, "both workers in the registry");
        var large = Assert.Single(status.Workers, w => w.Queue == TaskQueue.Large);
        Assert.Equal(2, large.Concurrency);
        Assert.False(large.Stale);
        Assert.Equal(1, status.Queues.Single(q => q.Name == "lcs.large").Consumers);
        Assert.Equal(1, status.Queues.Single(q => q.Name == "lcs.small").Consumers);
    }

    [Fact]
    public async Task Worker_control_answers_the_celery_inspect_verbs()
    {
        var large = fx.Stack.Workers[1];
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{large.Environment["Worker__ControlPort"]}");
        var control = new WorkerControlService.WorkerControlServiceClient(channel);
        var ping = await control.PingAsync(new PingRequest());
        Assert.Equal(large.Environment["Worker__Id"], ping.WorkerId);
        var queues = await control.ActiveQueuesAsync(new ActiveQueuesRequest());
        var queue = Assert.Single(queues.Queues);
        Assert.Equal("lcs.large", queue.Name);
        Assert.Equal("quorum", queue.QueueType);
        Assert.Equal(2, queue.Prefetch);
        var stats = await control.StatsAsync(new StatsRequest());
        Assert.Equal(2, stats.Concurrency);
        Assert.DoesNotContain("guest:guest", stats.Broker);
        var report = await control.ReportAsync(new ReportRequest());
        Assert.Contains("lcs.large", report.Text);
        Assert.DoesNotContain(fx.Stack.Token, report.Text);
    }
}

/// <summary>A small worker with 16 slots, whose jobs finish in bunches (a group commit answers their reports at once).</summary>
public sealed class BurstAckTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_burst_of_small_tasks_leaves_no_message_in_the_queue_and_none_unacknowledged()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 16)] });
        // Every delivery ends acknowledged once its task is final: a delivery left unacknowledged
        // would hold a prefetch slot and come back as a duplicate when the worker restarts.
        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(async n =>
            (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = $"burst text {n} here", TextB = $"here {n} burst" })).Task.Id));
        foreach (var id in ids) Assert.Equal(TaskState.Succeeded, (await stack.WaitForFinalAsync(id, Wait)).State);

        await Eventually.True(async () =>
        {
            var queues = await stack.Rabbit.CtlAsync("-q", "list_queues", "name", "messages_ready", "messages_unacknowledged");
            return queues.Split('\n').Any(line => line.Split('\t', StringSplitOptions.TrimEntries) is ["lcs.small", "0", "0"]);
        }, Wait, "lcs.small to hold no ready and no unacknowledged message");
    }
}
