using CeleryKube.Protos.V1;
using Microsoft.Playwright;
using Xunit;
using static CeleryKube.BrowserTests.Pages;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>
/// Many live tabs in one browser. The frontend speaks plain HTTP/1.1 (as under <c>scripts/up</c>),
/// where a browser opens at most 6 connections to one host and every open event stream holds one.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class LiveTabsTests(BrowserStackFixture fixture)
{
    private const int ListTabs = 7;

    [Fact]
    public async Task Nine_live_tabs_of_one_browser_all_load_and_every_list_shows_a_new_task_without_a_reload()
    {
        var first = await fixture.NewPageAsync();
        var browser = first.Context;
        var lists = new List<IPage> { first };
        while (lists.Count < ListTabs) lists.Add(await browser.NewPageAsync());
        foreach (var tab in lists)
        {
            await tab.GotoAsync("/Tasks");
            await Expect(tab.Locator("#live-status")).ToHaveTextAsync("Live");
            await MarkDocumentAsync(tab);
        }

        // An eighth tab submits and lands on its task page, which follows the task to its result.
        var submitter = await browser.NewPageAsync();
        var id = await SubmitAsync(submitter, "eighth tab " + RandomText(30, seed: 70), "tab eighth " + RandomText(30, seed: 71));
        await Expect(submitter.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });

        foreach (var tab in lists)
        {
            await Expect(tab.Locator($"tr[data-task-id='{id}'] .badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
            Assert.True(await StillSameDocumentAsync(tab), "a list was reloaded");
        }

        // A ninth tab still loads.
        var ninth = await browser.NewPageAsync();
        await ninth.GotoAsync($"/Tasks/{id}");
        await Expect(ninth.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED");
    }

    [Fact]
    public async Task Task_pages_in_one_browser_each_hear_only_about_their_own_task()
    {
        // Cancelled tasks: their pages keep following them, since a retry would bring them back.
        var (a, b) = (await CancelledTaskAsync(), await CancelledTaskAsync());
        var pageA = await fixture.NewPageAsync();
        await pageA.Context.AddInitScriptAsync(RecordWhatTheTabHears);
        var pageB = await pageA.Context.NewPageAsync();
        foreach (var (page, id) in new[] { (pageA, a), (pageB, b) })
        {
            await page.GotoAsync($"/Tasks/{id}");
            await Expect(page.Locator("#task-state")).ToHaveTextAsync("CANCELLED");
            await Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
            await MarkDocumentAsync(page);
        }

        await fixture.Stack.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { a } }, deadline: DateTime.UtcNow.AddSeconds(30));

        // The deleted task's page reloads and says it is gone; the other page stays as it was.
        await Expect(pageA.Locator("main")).ToContainTextAsync("Not found");
        Assert.False(await StillSameDocumentAsync(pageA));
        await Expect(pageB.Locator("#task-state")).ToHaveTextAsync("CANCELLED");
        Assert.True(await StillSameDocumentAsync(pageB), "the other task's page was reloaded");
        Assert.Equal(0, await pageB.EvaluateAsync<int>(
            "id => window.__heard.filter(m => (m.type === 'task' && m.value.id === id) || (m.type === 'deleted' && m.value === id)).length", a));
        Assert.True(await pageB.EvaluateAsync<bool>("id => window.__heard.some(m => m.type === 'task' && m.value.id === id)", b),
            "the page heard nothing about its own task");
    }

    /// <summary>Keeps every message the page gets from the shared worker in <c>window.__heard</c>.</summary>
    private const string RecordWhatTheTabHears = """
        (() => {
          window.__heard = [];
          const Shared = window.SharedWorker;
          window.SharedWorker = function (url, options) {
            const worker = new Shared(url, options);
            worker.port.addEventListener("message", (e) => window.__heard.push(e.data));
            return worker;
          };
        })();
        """;

    [Fact]
    public async Task Without_shared_workers_a_list_follows_tasks_over_a_stream_of_its_own()
    {
        var page = await fixture.NewPageAsync();
        await page.Context.AddInitScriptAsync("delete window.SharedWorker;");
        await page.GotoAsync("/Tasks");
        Assert.False(await page.EvaluateAsync<bool>("() => 'SharedWorker' in window"));
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
        await MarkDocumentAsync(page);

        var submitted = await fixture.Stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "own stream", TextB = "its own stream" },
            deadline: DateTime.UtcNow.AddSeconds(30));

        await Expect(page.Locator($"tr[data-task-id='{submitted.Task.Id}'] .badge")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        Assert.True(await StillSameDocumentAsync(page), "the list was reloaded");
    }

    /// <summary>A large task cancelled while the one large worker runs it.</summary>
    private async Task<string> CancelledTaskAsync()
    {
        var stack = fixture.Stack;
        var id = await StartBlockerAsync(stack);
        await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = id });
        await stack.WaitForFinalAsync(id);
        return id;
    }
}
