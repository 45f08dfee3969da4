using CeleryKube.Protos.V1;
using CeleryKube.Testing;

namespace CeleryKube.IntegrationTests;

/// <summary>RetryTasks against a real broker and worker: the same inputs run once more, and nothing left over from the earlier run interferes.</summary>
public sealed class RetryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static Task<long> SmallQueueDepthAsync(CeleryKubeStack stack) =>
        stack.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest()).ResponseAsync
            .ContinueWith(s => s.Result.Queues.Single(q => q.Name == "lcs.small").Depth, TaskScheduler.Default);

    [Fact]
    public async Task A_task_cancelled_while_queued_and_retried_runs_once_to_success_and_its_leftover_message_is_skipped()
    {
        // No worker yet: the first run's message stays in lcs.small when the task is cancelled.
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [] });
        var task = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "the quick brown fox", TextB = "a quick brown dog" })).Task;
        await stack.WaitForTaskAsync(task.Id, t => t.State == TaskState.Queued, Wait, "queued");
        Assert.Equal(TaskState.Cancelled, (await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = task.Id })).Task.State);

        var retried = await stack.Tasks.RetryTasksAsync(new RetryTasksRequest { Ids = { task.Id } });
        Assert.Equal(1, retried.RetriedCount);
        await stack.WaitForTaskAsync(task.Id, t => t.State == TaskState.Queued, Wait, "queued again");
        await Eventually.True(async () => await SmallQueueDepthAsync(stack) == 2, Wait, "both runs' messages in lcs.small");

        await stack.StartWorkerAsync("small", 2);
        var done = await stack.WaitForFinalAsync(task.Id, Wait);
        Assert.Equal(TaskState.Succeeded, done.State);
        Assert.Equal(" quick brown ", done.Result.Substring);
        await Eventually.True(async () => await SmallQueueDepthAsync(stack) == 0, Wait, "the leftover message to be taken off lcs.small");

        // One claim in all: the leftover message of the cancelled run never ran it.
        var final = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id })).Task;
        Assert.Equal((TaskState.Succeeded, 1, 1), (final.State, final.Attempts, final.Retries));
        var history = (await stack.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = task.Id })).Entries;
        Assert.Equal(
            [TaskState.Pending, TaskState.Queued, TaskState.Cancelled, TaskState.Pending, TaskState.Queued, TaskState.Running, TaskState.Succeeded],
            history.Select(e => e.State));
        Assert.Equal("retried", history[3].Note);
        Assert.Equal(final.WorkerId, history[5].WorkerId);
        Assert.Equal(1, history[5].Attempt);
        Assert.True(history.Zip(history.Skip(1)).All(p => p.First.Time <= p.Second.Time), "the history is in time order");
    }

    [Fact]
    public async Task A_task_that_hit_its_time_limit_is_retried_on_a_worker_with_more_time_and_its_history_shows_both_runs()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [] });
        var tight = await stack.StartWorkerAsync("large", 1, new Dictionary<string, string> { ["Worker__TimeLimit"] = "00:00:00.050" });
        // A hundred million dynamic-programming cells take far longer than 50 ms, and a few seconds at most.
        var random = new Random(7);
        string Text() => new(Enumerable.Range(0, 10_000).Select(_ => "ACGT"[random.Next(4)]).ToArray());
        var task = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = Text(), TextB = Text(), Algorithm = LcsAlgorithm.DynamicProgramming })).Task;
        var failed = await stack.WaitForFinalAsync(task.Id, Wait);
        Assert.Equal(TaskState.Failed, failed.State);
        await tight.StopAsync();

        await stack.StartWorkerAsync("large", 1);
        Assert.Equal(1, (await stack.Tasks.RetryTasksAsync(new RetryTasksRequest { AllFailed = true })).RetriedCount);
        var done = await stack.WaitForFinalAsync(task.Id, Wait);
        Assert.Equal(TaskState.Succeeded, done.State);
        Assert.Equal(2, done.Attempts);
        Assert.Equal("", done.Error);

        var history = (await stack.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = task.Id })).Entries;
        var runs = history.Where(e => e.State == TaskState.Running).Select(e => e.Attempt).ToList();
        Assert.Equal([1, 2], runs);
        Assert.Equal(failed.Error, history.Single(e => e.State == TaskState.Failed).Note);
        Assert.Equal(TaskState.Succeeded, history[^1].State);
        Assert.Single(history, e => e.Note == "retried");
    }
}
