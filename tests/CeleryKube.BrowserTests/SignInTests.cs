using System.Net;
using System.Text.RegularExpressions;
using CeleryKube.Testing;
using Microsoft.Playwright;
using Xunit;
using static CeleryKube.BrowserTests.Pages;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>A stack with sign-in on both sides (task-service and frontend) and a real OpenID Connect issuer.</summary>
public sealed class SignInStack : IAsyncLifetime
{
    public const string OperatorRole = "celerykube-operator";

    public TestOidcIssuer Issuer { get; private set; } = null!;
    public CeleryKubeStack Stack { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Issuer = await TestOidcIssuer.StartAsync();
        var shared = new Dictionary<string, string>
        {
            ["Auth__Enabled"] = "true",
            ["Auth__Authority"] = Issuer.Url,
            ["Auth__RequireHttpsMetadata"] = "false",
            ["Auth__OperatorRole"] = OperatorRole,
        };
        Stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("small", 1)],
            WithFrontend = true,
            TaskServiceSettings = new Dictionary<string, string>(shared) { ["Auth__Audience"] = TestOidcIssuer.ApiAudience },
            FrontendSettings = new Dictionary<string, string>(shared)
            {
                ["Auth__ClientId"] = "celerykube-web",
                ["Auth__ClientSecret"] = "web-secret",
                // As components/sign-in sets it: behind an Ingress that ends TLS.
                ["Frontend__TrustForwardedHeaders"] = "true",
            },
        });
    }

    public async Task DisposeAsync()
    {
        await Stack.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

/// <summary>What a person sees when the web UI needs a sign-in.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class SignInTests(BrowserStackFixture browser, SignInStack fx) : IClassFixture<SignInStack>
{
    private async Task<IPage> SignedInPageAsync(string subject, params string[] roles)
    {
        fx.Issuer.SignInAs(subject, roles);
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fx.Stack.FrontendUrl });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        // Any page sends a new visitor through the issuer and back.
        await page.GotoAsync("/Tasks");
        await Expect(page).ToHaveURLAsync(new Regex("/Tasks$"));
        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync(subject);
        return page;
    }

    [Fact]
    public async Task A_signed_in_person_submits_and_follows_a_task_but_sees_no_destructive_buttons()
    {
        var page = await SignedInPageAsync("alice");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete all finished" })).ToHaveCountAsync(0);
        await SubmitAsync(page, "signed in: common part", "another common part");
        await Expect(page.Locator("#task-state")).ToHaveTextAsync("SUCCEEDED", new() { Timeout = 60_000 });
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel task" })).ToHaveCountAsync(0);
        await browser.ScreenshotAsync(page, "signed-in-task");
    }

    [Fact]
    public async Task An_operator_sees_the_delete_buttons_and_signing_out_ends_the_session()
    {
        var page = await SignedInPageAsync("olivia", SignInStack.OperatorRole);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete all finished" })).ToBeVisibleAsync();
        // After signing out, the next page needs a new sign-in, which this issuer grants at once.
        fx.Issuer.SignInAs("bob");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.Locator("#signed-out-message")).ToBeVisibleAsync();
        await Expect(page.Locator("#signed-in-as")).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in again" }).ClickAsync();
        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("bob");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete all finished" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Pages_send_strangers_to_the_issuer_while_health_and_metrics_stay_open()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(fx.Stack.FrontendUrl!) };
        using var tasks = await http.GetAsync("/Tasks");
        Assert.Equal(HttpStatusCode.Redirect, tasks.StatusCode);
        Assert.StartsWith($"{fx.Issuer.Url}/authorize", tasks.Headers.Location!.ToString());
        using var events = await http.GetAsync("/events/tasks");
        Assert.NotEqual(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Behind_a_proxy_that_ends_tls_the_issuer_is_asked_to_send_people_back_over_https()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(fx.Stack.FrontendUrl!) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Tasks");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "celerykube.example.com");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        Assert.StartsWith("https://", query["redirect_uri"]);
    }
}
