using CeleryKube.Protos.V1;
using CeleryKube.Testing;

namespace CeleryKube.IntegrationTests;

/// <summary>Crashes and outages: nothing accepted is lost, nothing runs to two results.</summary>
public sealed class FaultTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    /// <summary>A dynamic-programming job that runs for a few seconds on this machine, reporting progress.</summary>
    private static SubmitLcsRequest SlowJob(int seed, int size = 30_000)
    {
        var random = new Random(seed);
        string Text() => new(Enumerable.Range(0, size).Select(_ => "ACGT"[random.Next(4)]).ToArray());
        return new SubmitLcsRequest { TextA = Text(), TextB = Text(), Algorithm = LcsAlgorithm.DynamicProgramming };
    }

    private static Task<LcsTask> WaitRunningWithProgress(CeleryKubeStack stack, string id) =>
        stack.WaitForTaskAsync(id, t => t.State == TaskState.Running && t.Progress > 0, Wait, "running with progress");

    [Fact]
    public async Task A_worker_killed_mid_task_loses_nothing_and_the_task_completes_exactly_once()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("large", 1), ("large", 1)] });
        var task = (await stack.Tasks.SubmitLcsAsync(SlowJob(1))).Task;
        var running = await WaitRunningWithProgress(stack, task.Id);
        var victim = stack.Workers.Single(w => w.Environment["Worker__Id"] == running.WorkerId);
        var survivor = stack.Workers.Single(w => w != victim);

        await victim.KillAsync();

        var done = await stack.WaitForFinalAsync(task.Id, Wait);
        Assert.True(done.State == TaskState.Succeeded, $"{done.State}: {done.Error}\n{stack.Logs()}");
        Assert.Equal(2, done.Attempts);
        Assert.Equal(survivor.Environment["Worker__Id"], done.WorkerId);
        // One result: the store holds one task with it, and the broker holds no leftover message.
        var all = await stack.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 100 });
        Assert.Single(all.Tasks);
        var status = await stack.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
        Assert.All(status.Queues, q => Assert.Equal(0, q.Depth));
        // A worker that vanished is expected, not an error in task-service's log.
        Assert.DoesNotContain("failed unexpectedly", stack.TaskService.Output);
    }

    [Fact]
    public async Task A_broker_restart_with_tasks_in_flight_still_finishes_every_accepted_task()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 2)] });
        var ids = new List<string>();
        for (var i = 0; i < 40; i++)
            ids.Add((await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = $"task {i} alpha", TextB = $"beta task {i}" })).Task.Id);

        await stack.Rabbit.RestartAsync();

        // Submits are refused while the broker is away and accepted again once it is back.
        var late = await Eventually.Until(async () =>
        {
            try { return (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "after", TextB = "restart" })).Task; }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Unavailable) { return null; }
        }, Wait, "submissions to be accepted after the broker restart");
        ids.Add(late.Id);

        foreach (var id in ids)
        {
            var done = await stack.WaitForFinalAsync(id, Wait);
            Assert.True(done.State == TaskState.Succeeded, $"task {id}: {done.State} {done.Error}\n{stack.Logs()}");
        }
    }

    [Fact]
    public async Task A_task_service_killed_between_commit_and_publish_publishes_after_restart()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 1)] });
        // A memory alarm makes the broker stop reading from publishers: the task commits but its
        // publish can never be confirmed.
        await stack.Rabbit.CtlAsync("set_vm_memory_high_watermark", "absolute", "1");
        var task = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "outbox survives", TextB = "a crash: outbox" })).Task;
        Assert.Equal(TaskState.Pending, (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task.State);

        await stack.TaskService.KillAsync();
        await stack.Rabbit.CtlAsync("set_vm_memory_high_watermark", "0.4");
        await stack.StartTaskServiceAsync();

        var done = await stack.WaitForFinalAsync(task.Id, Wait);
        Assert.True(done.State == TaskState.Succeeded, $"{done.State}: {done.Error}\n{stack.Logs()}");
        Assert.Equal("outbox", done.Result.Substring);
        Assert.Equal(1, done.Attempts);
    }

    [Fact]
    public async Task A_job_that_always_crashes_its_worker_ends_failed_through_the_dead_letter_queue()
    {
        var limit = new Dictionary<string, string> { ["RabbitMq__DeliveryLimit"] = "2" };
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("large", 1)],
            TaskServiceSettings = limit,
        });
        var task = (await stack.Tasks.SubmitLcsAsync(SlowJob(2))).Task;
        var worker = stack.Workers[0];
        // Whatever runs this job dies: every delivery kills its worker, as a poison message would.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await stack.WaitForTaskAsync(task.Id, t => t.State == TaskState.Running && t.Attempts == attempt, Wait, $"attempt {attempt} running");
            await worker.KillAsync();
            await worker.StartAsync($"consuming lcs.large");
        }
        var done = await stack.WaitForFinalAsync(task.Id, Wait);
        Assert.Equal(TaskState.Failed, done.State);
        Assert.Contains("dead-lettered", done.Error);
        Assert.Contains("RabbitMq__DeliveryLimit", done.Error);
        Assert.Equal(3, done.Attempts);
        var status = await stack.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
        Assert.All(status.Queues, q => Assert.Equal(0, q.Depth));
    }

    [Fact]
    public async Task Cancelled_tasks_stop_queued_at_once_and_running_within_a_progress_interval()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("large", 1)] });
        var running = (await stack.Tasks.SubmitLcsAsync(SlowJob(3, size: 60_000))).Task;
        var queued = (await stack.Tasks.SubmitLcsAsync(SlowJob(4))).Task;
        await WaitRunningWithProgress(stack, running.Id);

        var cancelledQueued = (await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = queued.Id })).Task;
        Assert.Equal(TaskState.Cancelled, cancelledQueued.State);

        var asked = (await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = running.Id })).Task;
        Assert.True(asked.State == TaskState.Running && asked.CancelRequested);
        var stopped = await stack.WaitForTaskAsync(running.Id, t => t.State != TaskState.Running, TimeSpan.FromSeconds(5), "stopped after cancel");
        Assert.Equal(TaskState.Cancelled, stopped.State);
        Assert.True(stopped.Progress < 1);

        // The worker skips the cancelled queued job instead of running it.
        await Eventually.True(async () =>
        {
            var s = await stack.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
            return s.Queues.Single(q => q.Name == "lcs.large").Depth == 0;
        }, Wait, "the cancelled job to leave lcs.large");
        var skipped = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = queued.Id })).Task;
        Assert.Equal(TaskState.Cancelled, skipped.State);
        Assert.Equal(0, skipped.Attempts);
    }
}

/// <summary>Rolling updates: SIGTERM lets a worker finish, or hands its job back in time.</summary>
public sealed class GracefulShutdownTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static SubmitLcsRequest SlowJob(int seed)
    {
        var random = new Random(seed);
        string Text() => new(Enumerable.Range(0, 30_000).Select(_ => "ACGT"[random.Next(4)]).ToArray());
        return new SubmitLcsRequest { TextA = Text(), TextB = Text(), Algorithm = LcsAlgorithm.DynamicProgramming };
    }

    [Fact]
    public async Task A_worker_stopped_within_its_grace_finishes_the_running_task_itself()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("large", 1)],
            WorkerSettings = new Dictionary<string, string> { ["Worker__ShutdownGrace"] = "00:02:00" },
        });
        var task = (await stack.Tasks.SubmitLcsAsync(SlowJob(5))).Task;
        await stack.WaitForTaskAsync(task.Id, t => t.State == TaskState.Running && t.Progress > 0, Wait, "running");

        Assert.Equal(0, await stack.Workers[0].StopAsync(TimeSpan.FromMinutes(3)));

        var done = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task;
        Assert.True(done.State == TaskState.Succeeded, $"{done.State}: {done.Error}\n{stack.Logs()}");
        Assert.Equal(1, done.Attempts);
        // The stopped worker's report stream ends with its process: not an error in task-service's log.
        Assert.DoesNotContain("failed unexpectedly", stack.TaskService.Output);
    }

    [Fact]
    public async Task A_worker_whose_grace_runs_out_hands_the_task_back_and_another_worker_finishes_it()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("large", 1)],
            WorkerSettings = new Dictionary<string, string> { ["Worker__ShutdownGrace"] = "00:00:00.500" },
        });
        var task = (await stack.Tasks.SubmitLcsAsync(SlowJob(6))).Task;
        await stack.WaitForTaskAsync(task.Id, t => t.State == TaskState.Running && t.Progress > 0, Wait, "running");

        await stack.Workers[0].StopAsync(TimeSpan.FromSeconds(30));
        var successor = await stack.StartWorkerAsync("large", 1);

        var done = await stack.WaitForFinalAsync(task.Id, Wait);
        Assert.True(done.State == TaskState.Succeeded, $"{done.State}: {done.Error}\n{stack.Logs()}");
        Assert.Equal(2, done.Attempts);
        Assert.Equal(successor.Environment["Worker__Id"], done.WorkerId);
    }
}
