using CeleryKube.Protos.V1;
using CeleryKube.Testing;

namespace CeleryKube.IntegrationTests;

/// <summary>Outages of task-service while work is queued: waiting is not failing.</summary>
[Collection(Collection)]
public sealed class OutageTests
{
    /// <summary>Its own collection: it runs beside the assembly's other tests (see AssemblyInfo.cs).</summary>
    public const string Collection = "five-minute outage";

    /// <summary>The outage the README promises to ride out without a failed task.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_five_minute_task_service_outage_with_work_queued_fails_no_task()
    {
        // Delivery limit 2: a single requeue counted against a job would already dead-letter it.
        var strict = new Dictionary<string, string> { ["RabbitMq__DeliveryLimit"] = "2" };
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [], TaskServiceSettings = strict });
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
            ids.Add((await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = $"queued {i} alpha", TextB = $"beta queued {i}" })).Task.Id);
        foreach (var id in ids) await stack.WaitForTaskAsync(id, t => t.State == TaskState.Queued, TimeSpan.FromSeconds(60), "queued");

        await stack.TaskService.StopAsync();
        // The longest time limit leaves the worker about 2 minutes per claim, so during the outage
        // it gives its jobs back to the queue at least once: the path that must not count.
        var worker = await stack.StartWorkerAsync("small", 4, new Dictionary<string, string> { ["Worker__TimeLimit"] = "00:25:00" });
        // The outage itself is the scenario: nothing to poll for while task-service is away.
        await Task.Delay(Outage);
        await stack.StartTaskServiceAsync();

        foreach (var id in ids)
        {
            var done = await stack.WaitForFinalAsync(id, TimeSpan.FromSeconds(120));
            Assert.True(done.State == TaskState.Succeeded, $"task {id}: {done.State} {done.Error}\n{stack.Logs()}");
            Assert.Equal(1, done.Attempts);
        }
        await worker.WaitForOutputAsync("returned to the queue", TimeSpan.FromSeconds(1));
        var status = await stack.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
        Assert.All(status.Queues, q => Assert.True(q.Depth == 0, $"{q.Name} holds {q.Depth} message(s)"));
    }
}
