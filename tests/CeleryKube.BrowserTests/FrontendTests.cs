using System.Text;
using System.Text.RegularExpressions;
using CeleryKube.Protos.V1;
using Grpc.Core;
using Microsoft.Playwright;
using Xunit;
using static CeleryKube.BrowserTests.Pages;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>The web frontend in a real browser against the real stack: what a person sees and does.</summary>
[Collection(BrowserCollection.Name)]
public sealed class FrontendTests(BrowserStackFixture fixture)
{
    [Fact]
    public async Task Submitting_lands_on_the_task_page_which_shows_the_highlighted_result_without_reload()
    {
        var page = await fixture.NewPageAsync();
        // Emoji and accents before the match: offsets are code points, C# strings are UTF-16.
        var id = await SubmitAsync(page, "\U0001F600\u00e9\U0001F600 needle-xyz tail", "other \U0001F600 needle-xyz");
        await MarkDocumentAsync(page);

        await Expect(page.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        // The history came with the same content (read at once, no waiting): it ends with the state shown.
        Assert.Equal("succeeded", await page.Locator("#history-rows tr").Last.GetAttributeAsync("data-state"));
        await Expect(page.Locator("#context-a mark")).ToHaveTextAsync("\U0001F600 needle-xyz");
        await Expect(page.Locator("#context-b mark")).ToHaveTextAsync("\U0001F600 needle-xyz");
        await Expect(page.Locator("#offset-a")).ToHaveTextAsync("2");
        await Expect(page.Locator("#offset-b")).ToHaveTextAsync("6");
        await Expect(page.Locator("#context-a")).ToHaveTextAsync("\U0001F600\u00e9\U0001F600 needle-xyz tail");
        Assert.True(await StillSameDocumentAsync(page), "the task page was reloaded");
        Assert.EndsWith($"/Tasks/{id}", page.Url);
        // The form made its own idempotency key up: nobody typed it, so it is not shown.
        await Expect(page.GetByText("Idempotency key")).ToHaveCountAsync(0);
        await fixture.ScreenshotAsync(page, "task");
    }

    [Fact]
    public async Task Queued_task_goes_to_running_with_moving_progress_then_to_its_result_while_the_person_watches()
    {
        // The large worker runs one task at a time: a slow brute-force task keeps it busy, so the
        // next one waits in the queue until the first is cancelled.
        var blockerPage = await fixture.NewPageAsync();
        var blocker = await SubmitAsync(blockerPage, BlockerText, BlockerText, "BruteForce");
        try
        {
            var blockerProgress = blockerPage.Locator("#task-progress");
            await Expect(blockerProgress).ToBeVisibleAsync(new() { Timeout = 60_000 });
            var first = await ProgressAsync(blockerProgress, above: 0, TaskTimeout);
            await ProgressAsync(blockerProgress, above: first, TaskTimeout); // it moves without a reload
            await fixture.ScreenshotAsync(blockerPage, "task-running");

            var page = await fixture.NewPageAsync();
            var shared = new string('a', 2000);
            var id = await SubmitAsync(page, "x" + shared + "y", "z" + shared + "w", "BruteForce");
            await MarkDocumentAsync(page);
            await Expect(page.Locator("#task-state")).ToHaveTextAsync("QUEUED");
            // Every state the page shows, in order, as the person would see it.
            await page.EvaluateAsync(@"() => {
                window.__states = [document.getElementById('task-state').textContent];
                new MutationObserver(() => {
                    const state = document.getElementById('task-state')?.textContent;
                    if (state && state !== window.__states.at(-1)) window.__states.push(state);
                }).observe(document.getElementById('task-view'), { childList: true, subtree: true });
            }");
            await fixture.ScreenshotAsync(page, "task-queued");

            // The cluster page counts the busy worker and the running task from the same read.
            var cluster = await fixture.NewPageAsync();
            await cluster.GotoAsync("/Cluster");
            await Expect(cluster.Locator("#workers tr[data-worker-queue='large'] td[data-label='Running']")).ToHaveTextAsync("1 / 1");
            await Expect(cluster.Locator(".state-counts a[href$='state=running'] strong")).ToHaveTextAsync("1");

            // Clicking the busy worker shows what it is running, linked to the task.
            await cluster.Locator("#workers tr[data-worker-queue='large'] td[data-label='Worker'] a").ClickAsync();
            await Expect(cluster.Locator("h1")).ToContainTextAsync("Worker");
            await Expect(cluster.Locator("[data-fact='queue']")).ToHaveTextAsync("large");
            await Expect(cluster.Locator("[data-fact='running']")).ToHaveTextAsync("1 / 1");
            await Expect(cluster.Locator("#worker-tasks li")).ToHaveCountAsync(1);
            await Expect(cluster.Locator($"#worker-tasks a[href='/Tasks/{blocker}']")).ToBeVisibleAsync();
            await Expect(cluster.Locator("#worker-control-note")).ToContainTextAsync("not reachable from this page");
            await fixture.ScreenshotAsync(cluster, "worker-busy");
            await cluster.Locator($"#worker-tasks a[href='/Tasks/{blocker}']").ClickAsync();
            await Expect(cluster.Locator("#task-state")).ToHaveTextAsync("RUNNING");

            await blockerPage.GetByRole(AriaRole.Button, new() { Name = "Cancel task" }).ClickAsync();
            await Expect(blockerPage.Locator("#task-state")).ToHaveTextAsync("CANCELLED", new() { Timeout = 60_000 });
            Assert.Equal(TaskState.Cancelled, (await fixture.Stack.WaitForFinalAsync(blocker)).State);

            await Expect(page.Locator("#task-progress")).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await fixture.ScreenshotAsync(page, "task-running-after-queued");
            // Brute force takes its time on a busy machine: wait for the store, then the page must follow at once.
            Assert.Equal(TaskState.Succeeded, (await fixture.Stack.WaitForFinalAsync(id, TimeSpan.FromMinutes(3))).State);
            await Expect(page.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 10_000 });
            Assert.Equal(["QUEUED", "RUNNING", "SUCCEEDED"], await page.EvaluateAsync<string[]>("() => window.__states"));
            await Expect(page.Locator("#match-length")).ToHaveTextAsync("2,000");
            await Expect(page.Locator("#context-a mark")).ToHaveCountAsync(1);
            Assert.True(await StillSameDocumentAsync(page), "the task page was reloaded");
        }
        finally
        {
            await CancelIfLiveAsync(fixture.Stack, blocker); // the other tests need the large worker
        }
    }

    [Fact]
    public async Task Cluster_page_shows_an_idle_worker_as_idle_right_after_its_task_finished()
    {
        var page = await fixture.NewPageAsync();
        var shared = RandomText(300, seed: 7);
        var id = await SubmitAsync(page, RandomText(900, seed: 1) + shared + RandomText(200, seed: 2), RandomText(100, seed: 3) + shared);
        await Expect(page.Locator(".facts")).ToContainTextAsync("large");
        await fixture.Stack.WaitForFinalAsync(id, TaskTimeout);

        await page.GotoAsync("/Cluster");
        var worker = page.Locator("#workers tr[data-worker-queue='large']");
        await Expect(worker).ToHaveCountAsync(1);
        // The worker's own heartbeat may still say "1 active" for a few seconds; the store knows better.
        await Expect(worker.Locator("td[data-label='Running']")).ToHaveTextAsync("0 / 1", new() { Timeout = 2_000 });
        await Expect(page.Locator(".state-counts a[href$='state=running'] strong")).ToHaveTextAsync("0");
        await Expect(page.Locator("#queues tr[data-queue='lcs.large']")).ToBeVisibleAsync();

        await worker.Locator("td[data-label='Worker'] a").ClickAsync();
        await Expect(page.Locator("[data-fact='running']")).ToHaveTextAsync("0 / 1");
        await Expect(page.Locator("#worker-tasks")).ToHaveCountAsync(0);
        await Expect(page.GetByText("Idle: no task is running here.")).ToBeVisibleAsync();
        // The worker's heartbeat counts the finished task within one heartbeat interval.
        var deadline = DateTime.UtcNow + TaskTimeout;
        while (await page.Locator("[data-fact='processed']").TextContentAsync() is { } processed && processed.StartsWith("0 "))
        {
            Assert.True(DateTime.UtcNow < deadline, "the worker page never counted the processed task");
            await page.ReloadAsync();
        }
    }

    [Fact]
    public async Task A_worker_that_is_not_heartbeating_gets_a_404_page_that_says_so()
    {
        var page = await fixture.NewPageAsync();
        var response = await page.GotoAsync("/Worker?id=" + Uri.EscapeDataString("no-such-worker-42"));
        Assert.Equal(404, response!.Status);
        await Expect(page.Locator("#worker-unknown")).ToContainTextAsync("has sent a heartbeat recently");
    }

    [Fact]
    public async Task Task_list_patches_rows_from_events_shows_the_substring_and_a_dated_created_column()
    {
        var page = await fixture.NewPageAsync();
        var rowFetches = 0;
        page.Request += (_, request) => { if (request.Url.Contains("handler=Rows")) Interlocked.Increment(ref rowFetches); };
        await page.GotoAsync("/Tasks");
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
        await MarkDocumentAsync(page);

        var submitted = await fixture.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest
        {
            TextA = "1the-shared-part-" + new string('s', 60) + "2",
            TextB = "3the-shared-part-" + new string('s', 60) + "4",
        }, deadline: DateTime.UtcNow.AddSeconds(30));
        var row = page.Locator($"tr[data-task-id='{submitted.Task.Id}']");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        await Expect(page.Locator("tbody tr[data-task-id]").First).ToHaveAttributeAsync("data-task-id", submitted.Task.Id);
        // The substring itself, shortened, and its length.
        await Expect(row.Locator("[data-field=match]")).ToHaveTextAsync("the-shared-part-" + new string('s', 24) + "\u2026");
        await Expect(row.Locator("[data-field=matchLength]")).ToHaveTextAsync("76");
        await Expect(row.Locator("[data-field=created]")).ToHaveTextAsync(new Regex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"));
        Assert.Equal(0, rowFetches);
        Assert.True(await StillSameDocumentAsync(page), "the list was reloaded");
        await fixture.ScreenshotAsync(page, "tasks");
    }

    [Fact]
    public async Task A_task_deleted_elsewhere_leaves_the_open_list_without_a_reload()
    {
        var submitted = await fixture.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "deleted elsewhere", TextB = "gone elsewhere" },
            deadline: DateTime.UtcNow.AddSeconds(30));
        await fixture.Stack.WaitForFinalAsync(submitted.Task.Id);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/Tasks");
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
        await MarkDocumentAsync(page);
        var row = page.Locator($"tr[data-task-id='{submitted.Task.Id}']");
        await Expect(row).ToHaveCountAsync(1);
        var totalBefore = int.Parse((await page.Locator("#task-total").TextContentAsync())!.Replace(",", ""));

        await fixture.Stack.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { submitted.Task.Id } }, deadline: DateTime.UtcNow.AddSeconds(30));

        await Expect(row).ToHaveCountAsync(0);
        await Expect(page.Locator("#task-total")).ToHaveTextAsync((totalBefore - 1).ToString("#,0", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(await StillSameDocumentAsync(page), "the list was reloaded");
    }

    [Fact]
    public async Task A_long_match_is_highlighted_in_one_piece_and_says_how_much_is_left_out()
    {
        var page = await fixture.NewPageAsync();
        var match = new string('m', 700);
        var id = await SubmitAsync(page, "A" + match + "B", "C" + match + "D");
        await Expect(page.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        var mark = page.Locator("#context-a mark");
        await Expect(mark).ToHaveCountAsync(1);
        await Expect(mark).ToHaveTextAsync(new string('m', 600));
        await Expect(page.Locator("#context-a .match-rest")).ToHaveTextAsync("(the match goes on for 100 more code points)");
        Assert.NotNull(id);
    }

    [Fact]
    public async Task A_large_tasks_page_shows_the_match_in_a_window_of_each_text_and_the_texts_only_on_request()
    {
        var shared = "common-core-" + RandomText(50, seed: 11);
        var headA = RandomText(12_000, seed: 12);
        var tailB = RandomText(12_000, seed: 13);
        var submitted = await fixture.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest
        {
            TextA = headA + shared + "😀 end of A",
            TextB = "B starts 😀" + shared + tailB,
            IdempotencyKey = "chosen-by-a-person-42",
        }, deadline: DateTime.UtcNow.AddSeconds(30));
        var id = submitted.Task.Id;
        await fixture.Stack.WaitForFinalAsync(id, TaskTimeout);

        var page = await fixture.NewPageAsync();
        var response = await page.GotoAsync($"/Tasks/{id}");
        var html = await response!.TextAsync();
        // The 120 code points on each side of the match come with the page; the rest of the texts do not.
        Assert.DoesNotContain(headA[..200], html);
        Assert.DoesNotContain(tailB[^200..], html);
        await Expect(page.Locator("#context-a mark")).ToHaveTextAsync(shared);
        await Expect(page.Locator("#context-a")).ToHaveTextAsync("…" + headA[^120..] + shared + "😀 end of A");
        await Expect(page.Locator("#context-b mark")).ToHaveTextAsync(shared);
        await Expect(page.Locator("#context-b")).ToHaveTextAsync("B starts 😀" + shared + tailB[..120] + "…");
        await Expect(page.Locator(".input-text")).ToHaveCountAsync(0);
        // A key someone chose is shown.
        await Expect(page.Locator(".facts")).ToContainTextAsync("chosen-by-a-person-42");
        await fixture.ScreenshotAsync(page, "task-large");

        await page.Locator("#show-texts").ClickAsync();
        await Expect(page.Locator(".input-text").First).ToContainTextAsync(headA[..400]);
        await Expect(page.Locator("#context-a mark")).ToHaveTextAsync(shared);
        await Expect(page.Locator("#context-b mark")).ToHaveTextAsync(shared);
    }

    [Fact]
    public async Task Empty_and_oversize_input_show_errors_next_to_the_field()
    {
        var page = await fixture.NewPageAsync(width: 375);
        await page.GotoAsync("/");
        await page.GetByLabel("Second text", new() { Exact = true }).FillAsync("something");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit task" }).ClickAsync();
        await Expect(page.Locator("[data-valmsg-for='Form.TextA']")).ToHaveTextAsync("Enter the first text or choose a file.");
        await Expect(page.GetByLabel("Second text", new() { Exact = true })).ToHaveValueAsync("something"); // input kept

        // The oversize text arrives as an uploaded file; the service refuses it with RESOURCE_EXHAUSTED.
        await page.GetByLabel("or upload the first text").SetInputFilesAsync(new FilePayload
        {
            Name = "big.txt",
            MimeType = "text/plain",
            Buffer = Encoding.UTF8.GetBytes(new string('a', BrowserStackFixture.MaxInputChars + 1)),
        });
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Submit task" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(200, response.Status); // the form again, not an error page
        await Expect(page.Locator("[data-valmsg-for='Form.TextA']")).ToContainTextAsync("Too large");
        await fixture.ScreenshotAsync(page, "home-errors-375");
    }

    [Fact]
    public async Task Selected_tasks_are_deleted_after_confirmation()
    {
        var page = await fixture.NewPageAsync();
        var id = await SubmitAsync(page, "delete me please", "please delete");
        await fixture.Stack.WaitForFinalAsync(id, TaskTimeout);

        await page.GotoAsync("/Tasks");
        await page.Locator($"tr[data-task-id='{id}'] input[type=checkbox]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete selected" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Delete tasks" })).ToBeVisibleAsync();
        await Expect(page.Locator(".id-list")).ToContainTextAsync(id);
        await fixture.ScreenshotAsync(page, "delete-confirm");

        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Deleted 1 task(s).");
        await Expect(page.Locator($"tr[data-task-id='{id}']")).ToHaveCountAsync(0);
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task On_a_phone_the_task_list_does_not_scroll_sideways()
    {
        var wide = await fixture.NewPageAsync();
        await SubmitAsync(wide, "phone layout check " + new string('p', 30), "another phone layout check");
        var page = await fixture.NewPageAsync(width: 375);
        await page.GotoAsync("/Tasks");
        await Expect(page.Locator("tbody tr[data-task-id]").First).ToBeVisibleAsync();
        Assert.Equal(0, await SidewaysOverflowAsync(page));
        // Each cell says what it is, since there is no header row to look up to.
        await Expect(page.Locator("tbody tr[data-task-id]").First.Locator("td[data-label='Created (UTC)']")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Banner_appears_while_task_service_is_down_and_the_page_recovers_by_itself()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/Tasks");
        var banner = page.Locator("#service-banner");
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
        await Expect(banner).ToBeHiddenAsync();

        await fixture.Stack.TaskService.StopAsync();
        try
        {
            await Expect(banner).ToBeVisibleAsync();
            await Expect(banner).ToContainTextAsync("TaskService is unavailable");
            await fixture.ScreenshotAsync(page, "tasks-service-down");
        }
        finally
        {
            await fixture.Stack.StartTaskServiceAsync();
        }

        await Expect(banner).ToBeHiddenAsync();
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
        // And the page still works: a task submitted now shows up live on it.
        var other = await fixture.NewPageAsync();
        var id = await SubmitAsync(other, "back again", "again and back");
        await Expect(page.Locator($"tr[data-task-id='{id}'] .badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
    }
}
