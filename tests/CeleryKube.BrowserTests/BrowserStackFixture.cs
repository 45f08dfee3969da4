using CeleryKube.Testing;
using Microsoft.Playwright;
using Xunit;

namespace CeleryKube.BrowserTests;

/// <summary>
/// One real stack (private RabbitMQ, task-service, a small and a large worker, the frontend) and
/// one headless Debian chromium, shared by the browser tests; both are stopped at the end.
/// </summary>
public sealed class BrowserStackFixture : IAsyncLifetime
{
    /// <summary>Per-text limit given to task-service, so the oversize test needs only a small file.</summary>
    public const int MaxInputChars = 20_000;

    private IPlaywright? playwright;

    /// <summary>The running system.</summary>
    public CeleryKubeStack Stack { get; private set; } = null!;

    /// <summary>The browser.</summary>
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The frontend's base URL.</summary>
    public string BaseUrl => Stack.FrontendUrl!;

    /// <summary>Where screenshots go: a folder in the test output.</summary>
    public string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(ScreenshotFolder);
        Stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("small", 1), ("large", 1)],
            TaskServiceSettings = new Dictionary<string, string> { ["Limits__MaxInputChars"] = MaxInputChars.ToString() },
            WithFrontend = true,
        });
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    /// <summary>A fresh page (own cookies) at <paramref name="width"/> x 900.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = 900 },
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    /// <summary>Saves a full-page screenshot as <c>screenshots/NAME.png</c>.</summary>
    public Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        playwright?.Dispose();
        if (Stack is not null) await Stack.DisposeAsync();
    }
}
