using System.Text;
using System.Text.RegularExpressions;
using CeleryKube.Protos.V1;
using Grpc.Core;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>
/// The web frontend in a real browser against the real stack (issue 4). The tests share one
/// stack and run one after another (one xunit class), so stopping task-service affects no other test.
/// </summary>
public sealed partial class FrontendTests(BrowserStackFixture fixture) : IClassFixture<BrowserStackFixture>
{
    private static readonly TimeSpan TaskTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Small_pair_turns_succeeded_without_reload_and_task_page_highlights_the_substring()
    {
        var page = await fixture.NewPageAsync();
        // Emoji and accents before the match: offsets are code points, C# strings are UTF-16.
        var id = await SubmitAsync(page, "\U0001F600\u00e9\U0001F600 needle-xyz tail", "other \U0001F600 needle-xyz");
        await fixture.ScreenshotAsync(page, "tasks-submitted");

        var row = page.Locator($"tr[data-task-id='{id}']");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        Assert.Contains("/Tasks?created=", page.Url); // still the page the submit led to: no reload was needed
        await fixture.ScreenshotAsync(page, "tasks");

        await row.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.Locator("#context-a mark")).ToHaveTextAsync("\U0001F600 needle-xyz");
        await Expect(page.Locator("#context-b mark")).ToHaveTextAsync("\U0001F600 needle-xyz");
        await Expect(page.Locator("#offset-a")).ToHaveTextAsync("2");
        await Expect(page.Locator("#offset-b")).ToHaveTextAsync("6");
        await Expect(page.Locator("#context-a")).ToHaveTextAsync("\U0001F600\u00e9\U0001F600 needle-xyz tail");
        await fixture.ScreenshotAsync(page, "task");
    }

    [Fact]
    public async Task Pair_longer_than_1000_characters_runs_on_the_large_queue_and_cluster_page_shows_the_large_worker()
    {
        var page = await fixture.NewPageAsync();
        var shared = RandomText(300, seed: 7);
        var id = await SubmitAsync(page, RandomText(900, seed: 1) + shared + RandomText(200, seed: 2), RandomText(100, seed: 3) + shared);

        var row = page.Locator($"tr[data-task-id='{id}']");
        await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("large");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });

        await page.GotoAsync("/Cluster");
        await Expect(page.Locator("#workers tr[data-worker-queue='large']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#queues tr[data-queue='lcs.large']")).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "cluster");
        var narrow = await fixture.NewPageAsync(width: 375);
        await narrow.GotoAsync("/Cluster");
        await fixture.ScreenshotAsync(narrow, "cluster-375");
    }

    [Fact]
    public async Task Brute_force_on_big_input_shows_moving_progress_and_can_be_cancelled()
    {
        var page = await fixture.NewPageAsync();
        // Brute force extends every pair of start positions while the texts agree: on one repeated
        // letter that is cubic work, tens of seconds, while the test needs only a few.
        var id = await SubmitAsync(page, new string('a', 4000), new string('a', 4000), "BruteForce");

        await page.GotoAsync($"/Tasks/{id}");
        var progress = page.Locator("#task-progress");
        await Expect(progress).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var first = await ProgressAsync(progress, above: 0);
        await ProgressAsync(progress, above: first); // it moves without a reload
        await fixture.ScreenshotAsync(page, "task-running");

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel task" }).ClickAsync();
        await Expect(page.Locator("#task-state")).ToHaveTextAsync("CANCELLED", new() { Timeout = 60_000 });
        var task = await fixture.Stack.WaitForFinalAsync(id);
        Assert.Equal(TaskState.Cancelled, task.State);
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

    /// <summary>Fills the home page form, submits it and returns the new task's id from the list URL.</summary>
    private static async Task<string> SubmitAsync(IPage page, string textA, string textB, string algorithm = "SuffixArray")
    {
        await page.GotoAsync("/");
        await page.GetByLabel("First text", new() { Exact = true }).FillAsync(textA);
        await page.GetByLabel("Second text", new() { Exact = true }).FillAsync(textB);
        await page.GetByLabel("Algorithm").SelectOptionAsync(algorithm);
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit task" }).ClickAsync();
        await page.WaitForURLAsync(CreatedUrl());
        var id = CreatedUrl().Match(page.Url).Groups[1].Value;
        await Expect(page.Locator($"tr[data-task-id='{id}']")).ToBeVisibleAsync();
        return id;
    }

    /// <summary>Waits until the progress bar's value exceeds <paramref name="above"/> and returns it.</summary>
    private static async Task<double> ProgressAsync(ILocator progress, double above)
    {
        var deadline = DateTime.UtcNow + TaskTimeout;
        while (true)
        {
            var value = double.Parse(await progress.GetAttributeAsync("value") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            var live = await progress.EvaluateAsync<double>("p => p.value");
            value = Math.Max(value, live);
            if (value > above) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"progress stayed at {value} (waiting for more than {above})");
            await progress.Page.WaitForTimeoutAsync(100); // polling interval with a deadline above, not a fixed wait
        }
    }

    private static string RandomText(int length, int seed)
    {
        var random = new Random(seed);
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = (char)('a' + r.Next(26));
        });
    }

    [GeneratedRegex(@"/Tasks\?created=([0-9a-fA-F-]{36})")]
    private static partial Regex CreatedUrl();
}
