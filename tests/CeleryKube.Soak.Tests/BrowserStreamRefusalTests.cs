using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace CeleryKube.Soak.Tests;

/// <summary>
/// What a browser's live connection says when task-service refuses the WatchTasks behind it: at
/// the stream cap, a page must not claim to be live (and must not knock again every 3 s); a
/// malformed id or too many ids is an HTTP error; one stream can follow several tasks. task-service refuses before its stream starts, so the refusal
/// reaches the frontend as a trailers-only gRPC response.
/// </summary>
public sealed class BrowserStreamRefusalTests : IAsyncLifetime
{
    private CeleryKubeStack stack = null!;
    private GrpcChannel channel = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [],
            WithFrontend = true,
            TaskServiceSettings = new Dictionary<string, string> { ["Limits__MaxWatchStreams"] = "1" },
        });
        channel = GrpcChannel.ForAddress(stack.PublicUrl);
        http = new HttpClient { BaseAddress = new Uri(stack.FrontendUrl!), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        http?.Dispose();
        channel?.Dispose();
        if (stack is not null) await stack.DisposeAsync();
    }

    [Fact]
    public async Task At_the_stream_cap_the_page_is_told_live_updates_are_paused_and_to_come_back_later_and_once_a_stream_is_free_it_is_live()
    {
        var client = new TaskService.TaskServiceClient(channel);
        using (var holder = new CancellationTokenSource())
        {
            using var taken = client.WatchTasks(new WatchTasksRequest(), cancellationToken: holder.Token);
            await taken.ResponseHeadersAsync;

            var refused = await FirstEventAsync("/events/tasks");
            Assert.Equal("paused", refused.EventType);
            Assert.Contains("Limits__MaxWatchStreams", JsonDocument.Parse(refused.Data).RootElement.GetProperty("reason").GetString());
            Assert.True(refused.ReconnectionInterval >= TimeSpan.FromSeconds(30), $"asked to come back after {refused.ReconnectionInterval}");
            holder.Cancel();
        }

        // The freed slot is given back when task-service sees the cancel: the next stream is live.
        await Eventually.True(async () =>
        {
            var item = await FirstEventAsync("/events/tasks");
            return item.EventType == "service" && JsonDocument.Parse(item.Data).RootElement.GetProperty("available").GetBoolean();
        }, TimeSpan.FromSeconds(30), "a browser stream is live again once the held WatchTasks ended");
    }

    [Fact]
    public async Task A_malformed_task_id_is_a_bad_request_not_a_live_stream()
    {
        using var response = await http.GetAsync("/events/tasks?id=not-a-task-id", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("task_ids", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task One_stream_follows_several_tasks_by_id_and_starts_with_each_ones_current_row()
    {
        var client = new TaskService.TaskServiceClient(channel);
        var ids = new List<string>();
        for (var i = 0; i < 2; i++) ids.Add((await client.SubmitLcsAsync(new SubmitLcsRequest { TextA = $"followed {i}", TextB = "followed" })).Task.Id);

        // The stream cap here is one: a stream an earlier test ended may still hold it for a moment.
        var events = await Eventually.Until(async () =>
        {
            var read = await EventsAsync($"/events/tasks?id={ids[0]}&id={ids[1]}", count: 3);
            return read[0].EventType == "service" ? read : null;
        }, TimeSpan.FromSeconds(30), "a live stream");

        Assert.Equal(["service", "task", "task"], events.Select(e => e.EventType));
        Assert.Equal(ids, events.Skip(1).Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("id").GetString()));
        // No worker runs here: neither has started.
        Assert.All(events.Skip(1), e => Assert.Contains(JsonDocument.Parse(e.Data).RootElement.GetProperty("state").GetString(), new[] { "pending", "queued" }));
    }

    [Fact]
    public async Task Following_more_than_the_limit_of_tasks_by_id_is_a_bad_request_that_says_the_limit()
    {
        var query = string.Join("&", Enumerable.Range(0, 101).Select(_ => "id=" + Guid.NewGuid()));
        using var response = await http.GetAsync("/events/tasks?" + query, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 100 tasks", await response.Content.ReadAsStringAsync());
    }

    /// <summary>The first <paramref name="count"/> events of <paramref name="path"/> (fewer if it ends sooner).</summary>
    private async Task<List<SseItem<string>>> EventsAsync(string path, int count)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(body).EnumerateAsync())
        {
            events.Add(item);
            if (events.Count == count) break;
        }
        return events;
    }

    private async Task<SseItem<string>> FirstEventAsync(string path)
    {
        var events = await EventsAsync(path, count: 1);
        return events.Count > 0 ? events[0] : throw new InvalidOperationException($"{path} ended without an event");
    }
}
