using System.Net;
using System.Net.Http.Headers;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Grpc.Health.V1;

namespace CeleryKube.IntegrationTests;

/// <summary>A stack whose public API requires sign-in, with a real OpenID Connect issuer the tests own.</summary>
public sealed class AuthStackFixture : IAsyncLifetime
{
    /// <summary>The API key of a script that may submit and read, not destroy.</summary>
    public const string ReaderKey = "reader-key-0123456789abcdef0123456789abcdef";
    /// <summary>The API key of an operator's script.</summary>
    public const string OperatorKey = "operator-key-0123456789abcdef0123456789abcdef";
    public const string OperatorRole = "celerykube-operator";

    public TestOidcIssuer Issuer { get; private set; } = null!;
    public CeleryKubeStack Stack { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Issuer = await TestOidcIssuer.StartAsync();
        Stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("small", 2)],
            TaskServiceSettings = new Dictionary<string, string>
            {
                ["Auth__Enabled"] = "true",
                ["Auth__Authority"] = Issuer.Url,
                ["Auth__Audience"] = TestOidcIssuer.ApiAudience,
                ["Auth__RequireHttpsMetadata"] = "false",
                ["Auth__OperatorRole"] = OperatorRole,
                ["Auth__ApiKeys__0__Name"] = "ci-reader",
                ["Auth__ApiKeys__0__Key"] = ReaderKey,
                ["Auth__ApiKeys__1__Name"] = "ops-script",
                ["Auth__ApiKeys__1__Key"] = OperatorKey,
                ["Auth__ApiKeys__1__Operator"] = "true",
            },
        });
    }

    public async Task DisposeAsync()
    {
        await Stack.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

/// <summary>What callers of the public API see once authentication is on.</summary>
public sealed class AuthTests(AuthStackFixture fx) : IClassFixture<AuthStackFixture>
{
    private static readonly SubmitLcsRequest Small = new() { TextA = "xxhello worldyy", TextB = "say hello world" };

    private static Metadata Bearer(string token) => new() { { "authorization", $"Bearer {token}" } };
    private static Metadata ApiKey(string key) => new() { { "x-api-key", key } };
    private Metadata Reader() => Bearer(fx.Issuer.IssueAccessToken("alice", []));
    private Metadata Operator() => Bearer(fx.Issuer.IssueAccessToken("olivia", [AuthStackFixture.OperatorRole]));

    private async Task<StatusCode> CodeOf(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        return error.StatusCode;
    }

    private async Task<LcsTask> SubmitAsync(Metadata who) => (await fx.Stack.Tasks.SubmitLcsAsync(Small, who)).Task;

    private Task<LcsTask> SucceededAsync(string id, Metadata who) => Eventually.Until(async () =>
    {
        var task = (await fx.Stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = id }, who)).Task;
        return task.State == TaskState.Succeeded ? task : null;
    }, TimeSpan.FromSeconds(60), $"task {id} to succeed");

    [Fact]
    public async Task Calls_without_credentials_are_unauthenticated_and_change_nothing()
    {
        var before = (await fx.Stack.Tasks.ListTasksAsync(new ListTasksRequest { IncludeTotalSize = true }, Reader())).TotalSize;
        Assert.Equal(StatusCode.Unauthenticated, await CodeOf(() => fx.Stack.Tasks.SubmitLcsAsync(Small).ResponseAsync));
        Assert.Equal(StatusCode.Unauthenticated, await CodeOf(() => fx.Stack.Tasks.ListTasksAsync(new ListTasksRequest()).ResponseAsync));
        Assert.Equal(before, (await fx.Stack.Tasks.ListTasksAsync(new ListTasksRequest { IncludeTotalSize = true }, Reader())).TotalSize);
    }

    [Fact]
    public async Task Forged_expired_and_wrong_audience_tokens_and_unknown_keys_are_refused()
    {
        var forged = Bearer(fx.Issuer.IssueForgedToken("mallory", [AuthStackFixture.OperatorRole]));
        var expired = Bearer(fx.Issuer.IssueAccessToken("alice", [], expiresIn: TimeSpan.FromMinutes(-10)));
        var otherAudience = Bearer(fx.Issuer.IssueAccessToken("alice", [], audience: "another-api"));
        foreach (var who in new[] { forged, expired, otherAudience, ApiKey("not-a-configured-key-0123456789abcdef0123") })
            Assert.Equal(StatusCode.Unauthenticated, await CodeOf(() => fx.Stack.Tasks.SubmitLcsAsync(Small, who).ResponseAsync));
    }

    [Fact]
    public async Task A_signed_in_user_submits_and_reads_but_may_not_cancel_retry_or_delete()
    {
        var task = await SubmitAsync(Reader());
        var got = await fx.Stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id }, Reader());
        Assert.Equal(task.Id, got.Task.Id);

        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => fx.Stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = task.Id }, Reader()).ResponseAsync));
        await SucceededAsync(task.Id, Reader());
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => fx.Stack.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { task.Id } }, Reader()).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => fx.Stack.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { task.Id } }, ApiKey(AuthStackFixture.ReaderKey)).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => fx.Stack.Tasks.RetryTasksAsync(new RetryTasksRequest { AllFailed = true }, Reader()).ResponseAsync));
        // Reading a task's history needs no role.
        Assert.Contains((await fx.Stack.Tasks.GetTaskHistoryAsync(new GetTaskHistoryRequest { Id = task.Id }, Reader())).Entries, e => e.State == TaskState.Succeeded);
        // Refused means untouched: the task and its result are still there.
        var after = await fx.Stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id }, Reader());
        Assert.Equal("hello world", after.Task.Result.Substring);
    }

    [Fact]
    public async Task Operators_cancel_and_delete_by_token_or_api_key()
    {
        var viaToken = await SubmitAsync(Operator());
        await SucceededAsync(viaToken.Id, Operator());
        var deleted = await fx.Stack.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { viaToken.Id } }, Operator());
        Assert.Equal(1, deleted.DeletedCount);

        var viaKey = await SubmitAsync(ApiKey(AuthStackFixture.OperatorKey));
        await SucceededAsync(viaKey.Id, ApiKey(AuthStackFixture.OperatorKey));
        var byKey = await fx.Stack.Tasks.DeleteTasksAsync(new DeleteTasksRequest { Ids = { viaKey.Id } }, ApiKey(AuthStackFixture.OperatorKey));
        Assert.Equal(1, byKey.DeletedCount);
    }

    [Fact]
    public async Task Health_stays_open_for_probes_and_the_json_api_answers_401_and_403()
    {
        var health = await new Health.HealthClient(fx.Stack.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fx.Stack.HttpApiPort}") };
        using var anonymous = await http.GetAsync("/v1/tasks");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var list = new HttpRequestMessage(HttpMethod.Get, "/v1/tasks");
        list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fx.Issuer.IssueAccessToken("alice", []));
        using var listed = await http.SendAsync(list);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);

        using var delete = new HttpRequestMessage(HttpMethod.Post, "/v1/tasks:delete") { Content = new StringContent("""{"all_finished":true}""") };
        delete.Headers.Add("x-api-key", AuthStackFixture.ReaderKey);
        using var refused = await http.SendAsync(delete);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }
}
