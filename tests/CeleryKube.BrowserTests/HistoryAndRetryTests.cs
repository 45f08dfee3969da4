using CeleryKube.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Playwright;
using Xunit;
using static CeleryKube.BrowserTests.Pages;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>A task's history on its page, streamed live, and Retry from the task page and the task list.</summary>
[Collection(BrowserCollection.Name)]
public sealed class HistoryAndRetryTests(BrowserStackFixture fixture)
{
    /// <summary>A large-queue task that a free large worker finishes at once; its match is 1,200 code points.</summary>
    private static (string A, string B) QuickLargeTexts(char c) => ("x" + new string(c, 1200), "y" + new string(c, 1200));

    private Task CancelAsync(string id) => fixture.Stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = id }).ResponseAsync;

    private static Task<string[]> HistoryStatesAsync(IPage page) =>
        page.Locator("#history-rows tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.state)");

    [Fact]
    public async Task The_history_grows_live_and_Retry_brings_a_cancelled_task_back_to_succeeded()
    {
        var blockerPage = await fixture.NewPageAsync();
        var blocker = await SubmitAsync(blockerPage, BlockerText, BlockerText, "BruteForce");
        try
        {
            await WatchAndRetryAsync(blockerPage, blocker);
        }
        finally
        {
            await CancelIfLiveAsync(fixture.Stack, blocker); // the other tests need the large worker
        }
    }

    private async Task WatchAndRetryAsync(IPage blockerPage, string blocker)
    {
        await MarkDocumentAsync(blockerPage);
        // The claim arrives as an event; the history shows its row (with the worker) without a reload.
        var running = blockerPage.Locator("#history-rows tr[data-state='running']");
        await Expect(running).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await Expect(running.Locator("td[data-label='Worker']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^worker-large-"));
        await Expect(running.Locator("td[data-label='Attempt']")).ToHaveTextAsync("1");
        Assert.True(await StillSameDocumentAsync(blockerPage), "the task page was reloaded");

        // Queued behind the blocker, cancelled there: its job message stays in lcs.large.
        var page = await fixture.NewPageAsync();
        var (a, b) = QuickLargeTexts('q');
        var id = await SubmitAsync(page, a, b);
        await Expect(page.Locator("#task-state")).ToHaveTextAsync("QUEUED", new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel task" }).ClickAsync();
        await Expect(page.Locator("#task-state")).ToHaveTextAsync("CANCELLED");
        await Expect(page.Locator("#history-rows tr").Last.Locator("td[data-label='Note']")).ToHaveTextAsync("cancelled before it started");
        await CancelAsync(blocker);

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(page.Locator(".banner-info")).ToContainTextAsync("Task retried");
        await MarkDocumentAsync(page);
        await Expect(page.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        await Expect(page.Locator("#match-length")).ToHaveTextAsync("1,200");
        Assert.True(await StillSameDocumentAsync(page), "the task page was reloaded");
        // Both runs, in order, read at once: the history shown is never older than the state beside it.
        // The leftover message of the cancelled run never ran it.
        var states = (await HistoryStatesAsync(page)).Where(s => s != "queued").ToArray();
        Assert.Equal(["pending", "cancelled", "pending", "running", "succeeded"], states);
        await Expect(page.Locator("#history-rows td[data-label='Note']", new() { HasText = "retried" })).ToHaveCountAsync(1);
        await Expect(page.Locator("#history-rows td[data-label='Time (UTC)']").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"));
        await page.Locator("#history").ScrollIntoViewIfNeededAsync();
        await fixture.ScreenshotAsync(page, "task-history");

        var phone = await fixture.NewPageAsync(width: 375);
        await phone.GotoAsync($"/Tasks/{id}");
        await Expect(phone.Locator("#history-rows tr")).ToHaveCountAsync(await page.Locator("#history-rows tr").CountAsync());
        Assert.Equal(0, await SidewaysOverflowAsync(phone));
        await fixture.ScreenshotAsync(phone, "task-history-375");
        await Expect(blockerPage.Locator("#task-state")).ToHaveTextAsync("CANCELLED", new() { Timeout = 60_000 });
    }

    [Fact]
    public async Task The_task_list_retries_the_selected_tasks_and_all_failed_ones()
    {
        var blocker = await StartBlockerAsync(fixture.Stack);
        try
        {
            await RetryFromTheListAsync(blocker);
        }
        finally
        {
            await CancelIfLiveAsync(fixture.Stack, blocker);
        }
    }

    private async Task RetryFromTheListAsync(string blocker)
    {
        var (a, b) = QuickLargeTexts('r');
        var cancelled = (await fixture.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = a, TextB = b })).Task;
        await CancelAsync(cancelled.Id);
        // A task that failed: a stand-in worker claims it from behind the blocker and reports an error.
        var failed = (await fixture.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = a + "f", TextB = b + "f" })).Task;
        using (var channel = GrpcChannel.ForAddress(fixture.Stack.ResultSinkUrl))
        {
            var sink = new ResultSinkService.ResultSinkServiceClient(channel);
            var auth = new Metadata { { "authorization", $"Bearer {fixture.Stack.Token}" } };
            var claim = await sink.StartTaskAsync(new StartTaskRequest { TaskId = failed.Id, WorkerId = "stand-in" }, auth);
            Assert.Equal(StartDecision.Proceed, claim.Decision);
            await sink.CompleteTaskAsync(new CompleteTaskRequest
            {
                TaskId = failed.Id, Attempt = claim.Attempt, ClaimToken = claim.ClaimToken, Error = "simulated failure",
            }, auth);
        }

        // The list renders, then its event stream starts: the blocker keeps both retried runs
        // waiting until the stream is live, so every later change reaches the open list.
        var page = await fixture.NewPageAsync();
        Task LiveAsync() => Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
        await page.GotoAsync("/Tasks");
        await LiveAsync();
        var cancelledRow = page.Locator($"tr[data-task-id='{cancelled.Id}']");
        var failedRow = page.Locator($"tr[data-task-id='{failed.Id}']");
        var waiting = new System.Text.RegularExpressions.Regex("^(PENDING|QUEUED)$");
        await Expect(failedRow.Locator(".badge")).ToHaveTextAsync("FAILED");
        await cancelledRow.Locator("input[type=checkbox]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry selected" }).ClickAsync();
        await Expect(page.Locator(".banner-info")).ToContainTextAsync("Retried 1 task(s)");
        await LiveAsync();
        await Expect(cancelledRow.Locator(".badge")).ToHaveTextAsync(waiting);
        await Expect(failedRow.Locator(".badge")).ToHaveTextAsync("FAILED");

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry failed tasks" }).ClickAsync();
        await Expect(page.Locator(".banner-info")).ToContainTextAsync("task(s): they run again");
        await LiveAsync();
        await Expect(failedRow.Locator(".badge")).ToHaveTextAsync(waiting);

        await CancelAsync(blocker);
        await Expect(cancelledRow.Locator(".badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        await Expect(failedRow.Locator(".badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        await fixture.ScreenshotAsync(page, "tasks-retried");

        var history = (await fixture.Stack.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = failed.Id })).Entries;
        var runs = history.Where(e => e.State == TaskState.Running).ToList();
        Assert.Equal(("stand-in", 1), (runs[0].WorkerId, runs[0].Attempt));
        Assert.Equal(2, runs[1].Attempt);
        Assert.StartsWith("worker-large-", runs[1].WorkerId);
        Assert.Equal("simulated failure", history.Single(e => e.State == TaskState.Failed).Note);
    }
}
