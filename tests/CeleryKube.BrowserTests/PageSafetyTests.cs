using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace CeleryKube.BrowserTests;

/// <summary>
/// The web front door: readable error pages with the right status, headers that forbid framing,
/// posts refused before their bodies are read, and antiforgery across replicas.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PageSafetyTests(BrowserStackFixture fixture)
{
    [Theory]
    [InlineData("/Tasks?pageToken=garbage", 400, "page_token")]
    [InlineData("/Tasks/not-a-task-id", 400, "is not a task id")]
    [InlineData("/Tasks/3f2b8c1e-0000-4000-8000-000000000000", 404, "Not found")]
    [InlineData("/no/such/page", 404, "Not found")]
    public async Task Bad_addresses_get_an_error_page_that_says_what_was_wrong(string path, int status, string says)
    {
        var page = await fixture.NewPageAsync();
        var response = await page.GotoAsync(path);
        Assert.Equal(status, response!.Status);
        await Expect(page.Locator("main")).ToContainTextAsync(says);
        await Expect(page.Locator("main")).Not.ToContainTextAsync("Something went wrong");
        await fixture.ScreenshotAsync(page, $"error-{status}-{Regex.Replace(path, "[^a-zA-Z]+", "-").Trim('-')}");
    }

    [Fact]
    public async Task Every_response_forbids_framing_and_sniffing_and_the_pages_break_no_rule_of_their_own_policy()
    {
        var page = await fixture.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, message) => { if (message.Text.Contains("Content Security Policy")) violations.Add(message.Text); };
        var id = await Pages.SubmitAsync(page, "headers everywhere", "where are the headers");
        foreach (var path in new[] { "/", "/Tasks", $"/Tasks/{id}", "/Cluster", "/Tasks?pageToken=x", "/nowhere", "/css/site.css", "/js/site.js" })
        {
            var response = await page.GotoAsync(path);
            var headers = await response!.AllHeadersAsync();
            Assert.Contains("frame-ancestors 'none'", headers.GetValueOrDefault("content-security-policy"));
            Assert.Equal("DENY", headers.GetValueOrDefault("x-frame-options"));
            Assert.Equal("nosniff", headers.GetValueOrDefault("x-content-type-options"));
        }
        // The pages' own script and styles work under the policy: the live list connects.
        await page.GotoAsync("/Tasks");
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("Live");
        Assert.Empty(violations);
    }

    [Fact]
    public async Task An_oversize_post_is_refused_with_413_before_its_body_is_sent()
    {
        // Only the headers go out: an answer proves the frontend did not wait for the body.
        var (status, body) = await PostHeadersOnlyAsync(fixture.BaseUrl, BrowserStackFixture.MaxUploadBytes + 1, "multipart/form-data; boundary=x", cookie: null);
        Assert.Equal(413, status);
        Assert.Contains("Too large", body);
        Assert.Contains("at most 256 KB", body);
    }

    [Fact]
    public async Task A_chunked_post_that_grows_over_the_limit_gets_the_413_page()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/");
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name.StartsWith(".AspNetCore.Antiforgery"));
        var token = await page.Locator("input[name=__RequestVerificationToken]").GetAttributeAsync("value");

        var uri = new Uri(fixture.BaseUrl);
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.ConnectAsync(uri.Host, uri.Port, timeout.Token);
        var stream = client.GetStream();
        var head = $"POST / HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: multipart/form-data; boundary=x\r\n" +
            $"Transfer-Encoding: chunked\r\nCookie: {cookie.Name}={cookie.Value}\r\n\r\n";
        var first = $"--x\r\nContent-Disposition: form-data; name=\"__RequestVerificationToken\"\r\n\r\n{token}\r\n" +
            "--x\r\nContent-Disposition: form-data; name=\"Form.TextA\"\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + Chunk(first)), timeout.Token);
        var filler = Chunk(new string('a', 32 * 1024));
        try
        {
            for (long sent = 0; sent <= BrowserStackFixture.MaxUploadBytes; sent += 32 * 1024)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(filler), timeout.Token);
            }
        }
        catch (IOException)
        {
            // The frontend answered and closed before the body ended: that is the point.
        }
        var answer = await ReadAnswerAsync(stream, timeout.Token);
        Assert.StartsWith("HTTP/1.1 413", answer);
        Assert.Contains("Too large", answer);

        static string Chunk(string data) => $"{data.Length:x}\r\n{data}\r\n";
    }

    [Fact]
    public async Task A_post_without_a_token_is_refused_with_400_before_its_body_is_read()
    {
        var (status, body) = await PostHeadersOnlyAsync(fixture.BaseUrl, BrowserStackFixture.MaxUploadBytes - 1, "multipart/form-data; boundary=x", cookie: null);
        Assert.Equal(400, status);
        Assert.Contains("The form could not be accepted", body);

        // With a cookie but a first field that is not the token: refused the same way.
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/");
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name.StartsWith(".AspNetCore.Antiforgery"));
        var start = "--x\r\nContent-Disposition: form-data; name=\"Form.TextA\"\r\n\r\nhello\r\n";
        (status, body) = await PostHeadersOnlyAsync(fixture.BaseUrl, BrowserStackFixture.MaxUploadBytes - 1, "multipart/form-data; boundary=x",
            cookie: $"{cookie.Name}={cookie.Value}", start + new string(' ', 9000));
        Assert.Equal(400, status);
        Assert.Contains("The form could not be accepted", body);
    }

    [Fact]
    public async Task A_form_rendered_by_one_replica_is_accepted_by_the_other_sharing_the_key_folder()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/");
        var token = await page.Locator("input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var key = await page.Locator("input[name='Form.IdempotencyKey']").GetAttributeAsync("value");

        async Task<IAPIResponse> PostToAsync(string baseUrl) =>
            await page.Context.APIRequest.PostAsync(baseUrl + "/", new APIRequestContextOptions
            {
                Multipart = page.Context.APIRequest.CreateFormData()
                    .Append("__RequestVerificationToken", token!)
                    .Append("Form.IdempotencyKey", key!)
                    .Append("Form.TextA", "made on one replica")
                    .Append("Form.TextB", "posted to the other replica")
                    .Append("Form.Algorithm", "SuffixArray"),
                MaxRedirects = 0,
            });

        var response = await PostToAsync(fixture.OtherUrl);
        Assert.Equal(302, response.Status);
        Assert.Matches(@"^/Tasks/[0-9a-f-]{36}$", response.Headers["location"]);

        // A replica with a key ring of its own refuses the same form: the shared folder is what makes it work.
        var (stranger, url) = await fixture.StartFrontendAsync("frontend-stranger", Path.Combine(fixture.Stack.Folder, "stranger-keys"));
        await using (stranger)
        {
            var refused = await PostToAsync(url);
            Assert.Equal(400, refused.Status);
            Assert.Contains("The form could not be accepted", await refused.TextAsync());
        }
    }

    /// <summary>
    /// Sends a POST's headers and at most <paramref name="bodyStart"/> of its body over a raw
    /// socket, then reads the answer the frontend gives without the rest of the body.
    /// </summary>
    private static async Task<(int Status, string Body)> PostHeadersOnlyAsync(string baseUrl, long contentLength, string contentType, string? cookie, string bodyStart = "")
    {
        var uri = new Uri(baseUrl);
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectAsync(uri.Host, uri.Port, timeout.Token);
        var stream = client.GetStream();
        var head = $"POST / HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: {contentType}\r\nContent-Length: {contentLength}\r\n" +
            (cookie is null ? "" : $"Cookie: {cookie}\r\n") + "\r\n" + bodyStart;
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token);
        var text = await ReadAnswerAsync(stream, timeout.Token);
        var status = int.Parse(Regex.Match(text, @"^HTTP/1\.1 (\d{3})").Groups[1].Value);
        return (status, text);
    }

    /// <summary>Reads an HTTP answer up to the end of its HTML page (or until the connection closes).</summary>
    private static async Task<string> ReadAnswerAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var answer = new StringBuilder();
        var buffer = new byte[16 * 1024];
        while (!answer.ToString().Contains("</html>"))
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0) break;
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        return answer.ToString();
    }
}
