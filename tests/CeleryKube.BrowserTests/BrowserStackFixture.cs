using CeleryKube.Testing;
using Microsoft.Playwright;
using Xunit;

namespace CeleryKube.BrowserTests;

/// <summary>
/// One real stack (private RabbitMQ, task-service, a small and a large worker), two frontend
/// replicas sharing one data-protection key folder, and one headless Debian chromium, shared by
/// the browser tests; all are stopped at the end.
/// </summary>
public sealed class BrowserStackFixture : IAsyncLifetime
{
    /// <summary>Per-text limit given to task-service, so the oversize test needs only a small file.</summary>
    public const int MaxInputChars = 20_000;

    /// <summary>The frontends' form size limit, so refusing an oversize post needs no big body.</summary>
    public const long MaxUploadBytes = 256 * 1024;

    private IPlaywright? playwright;

    /// <summary>The running system.</summary>
    public CeleryKubeStack Stack { get; private set; } = null!;

    /// <summary>The frontend the browser uses.</summary>
    public ServiceProcess Frontend { get; private set; } = null!;

    /// <summary>A second frontend replica with the same key folder.</summary>
    public ServiceProcess OtherFrontend { get; private set; } = null!;

    /// <summary>The key folder both replicas share.</summary>
    public string KeysFolder => Path.Combine(Stack.Folder, "frontend-keys");

    /// <summary>The browser.</summary>
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The frontend's base URL.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The other replica's base URL.</summary>
    public string OtherUrl { get; private set; } = "";

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
        });
        (Frontend, BaseUrl) = await StartFrontendAsync("frontend-a", KeysFolder);
        // The first replica makes the key on first use; the second finds it in the folder.
        using (var http = new HttpClient())
        {
            (await http.GetAsync(BaseUrl + "/")).EnsureSuccessStatusCode();
        }
        (OtherFrontend, OtherUrl) = await StartFrontendAsync("frontend-b", KeysFolder);
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

    /// <summary>Starts a frontend replica on a free port with <paramref name="keysFolder"/> as its key ring.</summary>
    public async Task<(ServiceProcess Process, string Url)> StartFrontendAsync(string name, string keysFolder)
    {
        var port = FreePorts.Next();
        var process = new ServiceProcess(name, RepoPaths.ServiceDll("frontend", "CeleryKube.Frontend"), Path.Combine(Stack.Folder, name),
            new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["DOTNET_ENVIRONMENT"] = "Production",
                ["Listen__Address"] = "127.0.0.1",
                ["Frontend__Port"] = port.ToString(),
                ["Frontend__TaskServiceUrl"] = Stack.PublicUrl,
                ["Frontend__MaxUploadBytes"] = MaxUploadBytes.ToString(),
                ["DataProtection__KeysPath"] = keysFolder,
            });
        try
        {
            await process.StartAsync("Application started");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        return (process, $"http://127.0.0.1:{port}");
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
        if (OtherFrontend is not null) await OtherFrontend.DisposeAsync();
        if (Frontend is not null) await Frontend.DisposeAsync();
        if (Stack is not null) await Stack.DisposeAsync();
    }
}
