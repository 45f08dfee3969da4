using Microsoft.Playwright;
using Xunit;
using static CeleryKube.BrowserTests.Pages;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>Every page at desktop and phone width, saved as screenshots to look at (screenshots/*.png).</summary>
[Collection(BrowserCollection.Name)]
public sealed class ScreenshotTests(BrowserStackFixture fixture)
{
    [Theory]
    [InlineData(1280, "desktop")]
    [InlineData(375, "phone")]
    public async Task Every_page_renders_without_sideways_scrolling(int width, string name)
    {
        var page = await fixture.NewPageAsync(width);
        var id = await SubmitAsync(page, "screenshots of every page, " + RandomText(40, seed: width), "every page " + RandomText(40, seed: width + 1));
        await Expect(page.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });

        foreach (var (path, file) in new[] { ("/", "home"), ("/Tasks", "tasks"), ($"/Tasks/{id}", "task"), ("/Cluster", "cluster"), ("/nowhere", "error-404") })
        {
            await page.GotoAsync(path);
            await Expect(page.Locator("h1")).ToBeVisibleAsync();
            await fixture.ScreenshotAsync(page, $"{file}-{name}");
            Assert.True(await SidewaysOverflowAsync(page) == 0, $"{path} scrolls sideways at {width} px");
        }

        await page.GotoAsync("/Cluster");
        await page.Locator("#workers td[data-label='Worker'] a").First.ClickAsync();
        await Expect(page.Locator("#worker-facts")).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, $"worker-{name}");
        Assert.True(await SidewaysOverflowAsync(page) == 0, $"the worker page scrolls sideways at {width} px");

        await page.GotoAsync("/Tasks");
        await page.Locator($"tr[data-task-id='{id}'] input[type=checkbox]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete selected" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Delete tasks" })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, $"delete-confirm-{name}");
    }
}
