using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Xunit.Abstractions;

namespace CeleryKube.IntegrationTests;

/// <summary>
/// Issue 11 §1: every input the limits accept completes, with job messages far below the broker's
/// message limit (the private broker runs with RabbitMQ 4's 16 MiB, see scripts/rabbitmq), and no
/// single message can stop publishing for anyone else.
/// </summary>
public sealed class InputSizeTests(ITestOutputHelper output)
{
    private const int MaxInputChars = 10_000_000;
    private const double TaskServicePeakMiB = 1024;
    private const double WorkerPeakMiB = 1024;
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);

    private static Task<LcsTask> WaitForFinalSummaryAsync(CeleryKubeStack stack, string id) =>
        Eventually.Until(async () =>
        {
            var task = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = id, View = TaskView.Summary }, deadline: DateTime.UtcNow.AddSeconds(10))).Task;
            return task.State is TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled ? task : null;
        }, Wait, $"task {id} to finish");

    [Fact]
    public async Task The_largest_inputs_the_limits_accept_complete_and_a_small_task_after_them_too()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 1), ("large", 1)] });
        Assert.Contains("16777216", await stack.Rabbit.CtlAsync("eval", "application:get_env(rabbit, max_message_size)."));

        var xs = new string('x', MaxInputChars);
        var big = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = xs, TextB = xs })).Task;
        // Astral text: 4 UTF-8 bytes per code point, 40 MB for one text at the limit (over Kestrel's 30 MB default).
        var astral = string.Concat(Enumerable.Repeat("\U0001F600", MaxInputChars));
        var wide = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = astral, TextB = "a\U0001F600\U0001F600b" })).Task;
        var over = await Assert.ThrowsAsync<RpcException>(() => stack.Tasks.SubmitLcsAsync(
            new SubmitLcsRequest { TextA = astral + "\U0001F600", TextB = "b" }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, over.StatusCode);
        Assert.Contains("Limits__MaxInputChars", over.Status.Detail);
        var small = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "after the giants", TextB = "giants after" })).Task;

        var smallDone = await stack.WaitForFinalAsync(small.Id, Wait);
        Assert.True(smallDone.State == TaskState.Succeeded, $"{smallDone.State} {smallDone.Error}\n{stack.Logs()}");
        var bigDone = await WaitForFinalSummaryAsync(stack, big.Id);
        Assert.True(bigDone.State == TaskState.Succeeded, $"{bigDone.State} {bigDone.Error}\n{stack.Logs()}");
        Assert.Equal((MaxInputChars, 0, 0), (bigDone.Result.Length, bigDone.Result.OffsetA, bigDone.Result.OffsetB));
        var wideDone = await WaitForFinalSummaryAsync(stack, wide.Id);
        Assert.True(wideDone.State == TaskState.Succeeded, $"{wideDone.State} {wideDone.Error}\n{stack.Logs()}");
        Assert.Equal((2, "\U0001F600\U0001F600", 0, 1), (wideDone.Result.Length, wideDone.Result.Substring, wideDone.Result.OffsetA, wideDone.Result.OffsetB));

        // The full result is still there for whoever asks for it.
        var full = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = big.Id, View = TaskView.Basic })).Task;
        Assert.Equal(xs, full.Result.Substring);
        var large = stack.Workers.Single(w => w.Environment["Worker__Queue"] == "large");
        Assert.Contains("from the store", large.Output);
        // The task page's read stays small: the store cuts the windows (the proto's 600 code points of the match, 120 around it).
        var window = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = big.Id, View = TaskView.MatchContext })).Task;
        Assert.Equal(new TextExcerpt { Start = 0, Before = "", Match = new string('x', 600), After = "" }, window.MatchContext.TextB);
        Assert.True(window.CalculateSize() < 4096, $"{window.CalculateSize()} bytes");
        var wideWindow = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = wide.Id, View = TaskView.MatchContext })).Task.MatchContext;
        Assert.Equal(new TextExcerpt { Start = 0, Before = "", Match = "\U0001F600\U0001F600", After = string.Concat(Enumerable.Repeat("\U0001F600", 120)) }, wideWindow.TextA);
        Assert.Equal(new TextExcerpt { Start = 0, Before = "a", Match = "\U0001F600\U0001F600", After = "b" }, wideWindow.TextB);

        // Memory stays bounded: task-service held the submissions, its store and a 10 MB result; the
        // large worker held each input once and the suffix array over both texts (20 M code points).
        var (servicePeak, workerPeak) = (ProcStatus.PeakRssMiB(stack.TaskService.Pid), ProcStatus.PeakRssMiB(large.Pid));
        output.WriteLine($"peak RSS: task-service {servicePeak:0} MiB, large worker {workerPeak:0} MiB");
        Assert.True(servicePeak < TaskServicePeakMiB, $"task-service peaked at {servicePeak:0} MiB");
        Assert.True(workerPeak < WorkerPeakMiB, $"the large worker peaked at {workerPeak:0} MiB");
    }

    [Fact]
    public async Task A_job_message_the_broker_refuses_fails_its_task_with_the_reason_and_later_tasks_still_run()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 1), ("large", 1)] });
        // A broker whose message limit is below what a job may carry inline: the channel task-service
        // opens from now on refuses such a message (RabbitMQ closes the channel, PRECONDITION_FAILED).
        await stack.Rabbit.CtlAsync("eval", "application:set_env(rabbit, max_message_size, 4096).");
        await stack.TaskService.StopAsync();
        await stack.StartTaskServiceAsync();

        var refused = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = new string('y', 3000), TextB = new string('y', 3000) })).Task;
        var after = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "still running", TextB = "running still" })).Task;

        var failed = await stack.WaitForFinalAsync(refused.Id, Wait);
        Assert.True(failed.State == TaskState.Failed, $"{failed.State} {failed.Error}\n{stack.Logs()}");
        Assert.Contains("max size", failed.Error);
        var done = await stack.WaitForFinalAsync(after.Id, Wait);
        Assert.True(done.State == TaskState.Succeeded, $"{done.State} {done.Error}\n{stack.Logs()}");
        // Publishing goes on for everyone.
        var next = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "and the next", TextB = "the next one" })).Task;
        Assert.Equal(TaskState.Succeeded, (await stack.WaitForFinalAsync(next.Id, Wait)).State);
    }
}
