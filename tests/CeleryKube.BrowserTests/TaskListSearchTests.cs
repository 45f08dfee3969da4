using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using Microsoft.Playwright;
using RabbitMQ.Client;
using Xunit;
using static CeleryKube.BrowserTests.Pages;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>Finding tasks: search by id, sort by creation time, and the dead-lettered ones.</summary>
[Collection(BrowserCollection.Name)]
public sealed class TaskListSearchTests(BrowserStackFixture fixture)
{
    [Fact]
    public async Task Searching_by_the_start_of_an_id_finds_the_task_and_the_created_column_sorts_both_ways()
    {
        var page = await fixture.NewPageAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(await SubmitAsync(page, $"search and sort {i} " + RandomText(20, seed: 40 + i), "sort " + RandomText(20, seed: 50 + i)));

        await page.GotoAsync("/Tasks");
        await page.GetByLabel("Task id starts with").FillAsync(ids[1][..6].ToUpperInvariant());
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page.Locator($"tr[data-task-id='{ids[1]}']")).ToBeVisibleAsync();
        foreach (var id in await page.Locator("tbody tr[data-task-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.taskId)"))
            Assert.StartsWith(ids[1][..6], id);
        await fixture.ScreenshotAsync(page, "tasks-search");

        // The Created header sorts oldest first, then back; the search stays.
        await page.GotoAsync("/Tasks");
        await page.Locator("#sort-created").ClickAsync();
        await Expect(page.Locator("th[aria-sort='ascending']")).ToBeVisibleAsync();
        Assert.Equal("oldest", await page.Locator("#sort").InputValueAsync());
        var created = await page.Locator("tbody tr[data-task-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.created)");
        Assert.Equal(created.Order(StringComparer.Ordinal), created);
        await page.Locator("#sort-created").ClickAsync();
        await Expect(page.Locator("th[aria-sort='descending']")).ToBeVisibleAsync();
        var newest = await page.Locator("tbody tr[data-task-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.taskId)");
        Assert.Equal(Enumerable.Reverse(ids), newest.Take(3));

        // A search that cannot be an id says so next to the field, in TaskService's words.
        await page.GetByLabel("Task id starts with").FillAsync("not-an-id");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page.Locator("#id-error")).ToContainTextAsync("hex digits");
        await Expect(page.Locator("tbody tr[data-task-id]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_task_whose_job_was_dead_lettered_is_listed_with_the_reason_beside_the_dead_letter_depth()
    {
        var stack = fixture.Stack;
        // The large worker runs one task at a time: a slow one holds it, so the next large task stays QUEUED.
        var blocker = await StartBlockerAsync(stack);
        try
        {
            var victim = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = RandomText(1500, seed: 60), TextB = RandomText(300, seed: 61) })).Task;
            Assert.Equal(TaskQueue.Large, victim.Queue);

            // A job message for it that no worker can read: the small worker rejects it, the broker dead-letters it.
            var factory = new ConnectionFactory { Uri = new Uri(stack.Rabbit.Uri) };
            await using (var connection = await factory.CreateConnectionAsync())
            await using (var channel = await connection.CreateChannelAsync())
            {
                await channel.BasicPublishAsync("", TaskQueue.Small.BrokerQueueName(), mandatory: true,
                    new BasicProperties { MessageId = victim.Id, Persistent = true }, new byte[] { 1 });
            }
            var failed = await stack.WaitForTaskAsync(victim.Id, t => t.State == TaskState.Failed, TaskTimeout, "the dead-lettered task failed");
            await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = blocker });

            var page = await fixture.NewPageAsync();
            await page.GotoAsync("/Cluster");
            await page.Locator("#queues a", new() { HasText = "lcs.dead" }).ClickAsync();
            await Expect(page.Locator("h1")).ToHaveTextAsync("Dead-lettered tasks");
            var row = page.Locator($"#dead-tasks tr[data-task-id='{victim.Id}']");
            await Expect(row).ToBeVisibleAsync();
            await Expect(row.Locator("td[data-label='Why']")).ToHaveTextAsync(failed.Error);
            await Expect(row.Locator("td[data-label='Why']")).ToContainTextAsync("rejected the job message as unreadable");
            await Expect(page.Locator("#dead-depth")).ToContainTextAsync("lcs.dead holds");
            await Expect(page.Locator($"#dead-tasks tr[data-task-id='{blocker}']")).ToHaveCountAsync(0);
            await fixture.ScreenshotAsync(page, "dead-lettered");
            await stack.WaitForFinalAsync(blocker, TaskTimeout);
        }
        finally
        {
            await CancelIfLiveAsync(stack, blocker); // the other tests need the large worker
        }
    }
}
