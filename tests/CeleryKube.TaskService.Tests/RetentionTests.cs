using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;

namespace CeleryKube.TaskService.Tests;

/// <summary>Finished tasks are swept after their state's retention; others stay.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Finished_tasks_are_deleted_after_their_retention_and_unfinished_ones_are_kept()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [],
            TaskServiceSettings = new Dictionary<string, string>
            {
                ["Retention__Cancelled"] = "00:00:01",
                ["Retention__SweepInterval"] = "00:00:00.200",
            },
        });
        var cancelled = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "old", TextB = "news" })).Task;
        var kept = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "still", TextB = "queued" })).Task;
        await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = cancelled.Id });

        await Eventually.True(async () =>
        {
            try
            {
                await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = cancelled.Id });
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(20), "the cancelled task to be swept");
        Assert.Equal(TaskState.Queued, (await stack.WaitForTaskAsync(kept.Id, t => t.State == TaskState.Queued, TimeSpan.FromSeconds(20), "QUEUED")).State);
    }
}
