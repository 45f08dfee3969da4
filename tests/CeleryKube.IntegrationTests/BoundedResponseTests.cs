using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace CeleryKube.IntegrationTests;

/// <summary>
/// Issue 11 §4 and §5 on the server: responses are bounded by bytes whatever the stored results,
/// and watch streams are capped with a clear error.
/// </summary>
public sealed class BoundedResponseTests
{
    private const int ResultChars = 10_000_000;

    [Fact]
    public async Task Nine_tasks_with_10_MB_results_list_watch_and_render_and_the_full_result_is_one_call_away()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [], WithFrontend = true });
        using var sinkChannel = GrpcChannel.ForAddress(stack.ResultSinkUrl);
        var sink = new ResultSinkService.ResultSinkServiceClient(sinkChannel);
        var auth = new Metadata { { "authorization", $"Bearer {stack.Token}" } };
        using var watch = stack.Tasks.WatchTasks(new WatchTasksRequest());
        await watch.ResponseHeadersAsync;

        // The test plays the worker (there is none) and records a 10 MB result for each task, as a
        // worker would for two 10 MB texts that are alike.
        var huge = new string('z', ResultChars);
        var ids = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            var task = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = $"zz {i}", TextB = $"{i} zz" })).Task;
            var finish = await sink.FinishTaskAsync(new FinishTaskRequest
            {
                TaskId = task.Id, WorkerId = "test-worker",
                Result = new LcsResult { Length = ResultChars, Substring = huge, OffsetA = 0, OffsetB = 0 },
            }, auth);
            Assert.Equal(StartDecision.Proceed, finish.Decision);
            ids.Add(task.Id);
        }

        var page = await stack.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 50 });
        Assert.Equal(9, page.Tasks.Count);
        Assert.All(page.Tasks, t => Assert.Equal((ResultChars, 200), (t.Result.Length, t.Result.Substring.Length)));
        Assert.True(page.CalculateSize() < 64 * 1024, $"a page of nine summaries took {page.CalculateSize():N0} bytes");

        var summary = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = ids[0], View = TaskView.Summary })).Task;
        Assert.Equal((ResultChars, huge[..200]), (summary.Result.Length, summary.Result.Substring));
        var full = (await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = ids[0], View = TaskView.Basic })).Task;
        Assert.Equal(huge, full.Result.Substring);

        // Every success reached the watcher, shortened.
        var succeeded = new HashSet<string>();
        using var readFor = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (succeeded.Count < ids.Count && await watch.ResponseStream.MoveNext(readFor.Token))
        {
            var update = watch.ResponseStream.Current.Task;
            if (update.State != TaskState.Succeeded) continue;
            Assert.Equal(200, update.Result.Substring.Length);
            succeeded.Add(update.Id);
        }
        Assert.Equal(ids.ToHashSet(), succeeded);

        using var http = new HttpClient { BaseAddress = new Uri(stack.FrontendUrl!) };
        using var tasksPage = await http.GetAsync("/Tasks");
        var html = await tasksPage.Content.ReadAsStringAsync();
        Assert.True(tasksPage.IsSuccessStatusCode, $"/Tasks answered {(int)tasksPage.StatusCode}\n{stack.Logs()}");
        Assert.Contains(ids[0], html);
        Assert.True(html.Length < 1024 * 1024, $"/Tasks is {html.Length:N0} characters");
    }

    [Fact]
    public async Task Watch_streams_beyond_the_cap_are_refused_naming_the_setting_and_a_freed_place_is_taken_again()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("small", 1)],
            TaskServiceSettings = new Dictionary<string, string> { ["Limits__MaxWatchStreams"] = "3" },
        });
        var open = new List<AsyncServerStreamingCall<WatchTasksResponse>>();
        for (var i = 0; i < 3; i++)
        {
            var call = stack.Tasks.WatchTasks(new WatchTasksRequest());
            await call.ResponseHeadersAsync;
            open.Add(call);
        }

        using var refused = stack.Tasks.WatchTasks(new WatchTasksRequest());
        var error = await Assert.ThrowsAsync<RpcException>(() => refused.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("Limits__MaxWatchStreams", error.Status.Detail);

        // All three streams see the same change, from one shared read.
        var task = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "shared read", TextB = "read shared" })).Task;
        foreach (var call in open)
        {
            using var readFor = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (await call.ResponseStream.MoveNext(readFor.Token) && call.ResponseStream.Current.Task.State != TaskState.Succeeded) { }
            Assert.Equal(task.Id, call.ResponseStream.Current.Task.Id);
        }

        open[0].Dispose();
        var again = await Eventually.Until(async () =>
        {
            var call = stack.Tasks.WatchTasks(new WatchTasksRequest());
            try
            {
                await call.ResponseHeadersAsync;
                return call;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                call.Dispose();
                return null;
            }
        }, TimeSpan.FromSeconds(30), "a watch stream to be admitted once one closed");
        again.Dispose();
        foreach (var call in open.Skip(1)) call.Dispose();
    }
}
