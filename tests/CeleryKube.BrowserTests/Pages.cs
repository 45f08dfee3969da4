using System.Text.RegularExpressions;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>What the browser tests do on the pages again and again.</summary>
internal static partial class Pages
{
    /// <summary>Fills the home page form, submits it, and returns the new task's id from the task page it lands on.</summary>
    public static async Task<string> SubmitAsync(IPage page, string textA, string textB, string algorithm = "SuffixArray")
    {
        await page.GotoAsync("/");
        await page.GetByLabel("First text", new() { Exact = true }).FillAsync(textA);
        await page.GetByLabel("Second text", new() { Exact = true }).FillAsync(textB);
        await page.GetByLabel("Algorithm").SelectOptionAsync(algorithm);
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit task" }).ClickAsync();
        // What a person needs is the task page's content, so that is what this waits for: the
        // redirect's address, then its state shown. Not the window's load event, which twice
        // failed to come within 30 s on CI although the page's requests had all finished; and not
        // WaitForURLAsync, which waits for that event when the address has already changed.
        await Expect(page).ToHaveURLAsync(TaskUrl());
        var id = TaskUrl().Match(page.Url).Groups[1].Value;
        await Expect(page.Locator("#task-state")).ToBeVisibleAsync();
        return id;
    }

    /// <summary>
    /// How far the page, or any scrollable table box on it, reaches beyond the screen sideways,
    /// in pixels; 0 when nothing scrolls sideways.
    /// </summary>
    public static Task<int> SidewaysOverflowAsync(IPage page) => page.EvaluateAsync<int>(@"() => Math.max(0,
        document.documentElement.scrollWidth - window.innerWidth,
        ...[...document.querySelectorAll('.table-scroll')].map(e => e.scrollWidth - e.clientWidth))");

    /// <summary>Marks the document, so a later check can tell that it was never reloaded.</summary>
    public static Task MarkDocumentAsync(IPage page) => page.EvaluateAsync("() => { window.__notReloaded = true; }");

    /// <summary>True when the document marked by <see cref="MarkDocumentAsync"/> is still the one shown.</summary>
    public static Task<bool> StillSameDocumentAsync(IPage page) => page.EvaluateAsync<bool>("() => window.__notReloaded === true");

    /// <summary>Waits until the progress bar's value exceeds <paramref name="above"/> and returns it.</summary>
    public static async Task<double> ProgressAsync(ILocator progress, double above, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await progress.EvaluateAsync<double>("p => p.value");
            if (value > above) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"progress stayed at {value} (waiting for more than {above})");
            await progress.Page.WaitForTimeoutAsync(100); // polling interval with a deadline above, not a fixed wait
        }
    }

    /// <summary>
    /// Texts of a large task that keeps the one large worker busy (brute force, reporting progress) until it is
    /// cancelled. Brute force on n equal code points costs about n³/3 steps: 4,000 took 13 s on an idle machine and
    /// finished before a busy CI run's test got to cancel it; 10,000 takes minutes. Every test cancels its blocker
    /// in a finally block (<see cref="CancelIfLiveAsync"/>), since the other tests need the large worker.
    /// </summary>
    public static readonly string BlockerText = new('a', 10_000);

    /// <summary>Cancels a task unless it is already final (a test's clean-up, also after the test failed).</summary>
    public static async Task CancelIfLiveAsync(CeleryKubeStack stack, string id)
    {
        try
        {
            await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = id });
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
        }
    }

    /// <summary>Submits a blocker (<see cref="BlockerText"/>) and returns its id once the large worker runs it.</summary>
    public static async Task<string> StartBlockerAsync(CeleryKubeStack stack)
    {
        var blocker = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest
        {
            TextA = BlockerText, TextB = BlockerText, Algorithm = LcsAlgorithm.BruteForce,
        })).Task;
        await stack.WaitForTaskAsync(blocker.Id, t => t.State == TaskState.Running, TaskTimeout, "the blocker running");
        return blocker.Id;
    }

    /// <summary>How long a test waits for a task to get somewhere on the shared stack.</summary>
    public static readonly TimeSpan TaskTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A random lower-case text.</summary>
    public static string RandomText(int length, int seed)
    {
        var random = new Random(seed);
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = (char)('a' + r.Next(26));
        });
    }

    [GeneratedRegex(@"/Tasks/([0-9a-fA-F-]{36})$")]
    public static partial Regex TaskUrl();
}
