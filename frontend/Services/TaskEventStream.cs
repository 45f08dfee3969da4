using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using Grpc.Core;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// <c>GET /events/tasks[?id=...&amp;id=...]</c>: server-sent events relaying TaskService.WatchTasks to the
/// browser, for every task or for the given ones (at most <see cref="MaxFollowedTasks"/>). Events: <c>service</c> (<c>{"available":bool}</c>), <c>task</c> (a <see cref="TaskRow"/>),
/// <c>deleted</c> (<c>{"id":...}</c>) and <c>paused</c> (<c>{"reason":...}</c>: task-service is at
/// its cap of watch streams, so the browser is asked to come back after <see cref="RetryWhenBusyAfter"/>).
/// The stream is known to be live when WatchTasks sends its live headers (<see cref="WatchStreamHeaders"/>). When the service
/// goes away the response ends and the browser's EventSource reconnects by itself every few
/// seconds, which is how the pages notice that it is back.
/// </summary>
public static class TaskEventStream
{
    /// <summary>How long the browser waits before it reconnects.</summary>
    public static readonly TimeSpan ReconnectAfter = TimeSpan.FromSeconds(3);

    /// <summary>How long the browser waits before it asks again when task-service is at its stream cap.</summary>
    public static readonly TimeSpan RetryWhenBusyAfter = TimeSpan.FromSeconds(30);

    /// <summary>How many tasks one stream may follow by id (a browser shares one stream between its tabs).</summary>
    public const int MaxFollowedTasks = 100;

    /// <summary>Maps the event stream endpoint.</summary>
    public static IEndpointRouteBuilder MapTaskEvents(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/events/tasks", RelayAsync);
        return endpoints;
    }

    private static async Task<IResult> RelayAsync(HttpContext http, TaskServiceClient client, IHostApplicationLifetime lifetime, ILoggerFactory loggers, string[]? id)
    {
        // Stop relaying when the browser leaves or the frontend shuts down (else shutdown waits for us).
        var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        http.Response.RegisterForDispose(stop);
        var ids = (id ?? []).Where(i => !string.IsNullOrEmpty(i)).Distinct().ToList();
        if (ids.Count > MaxFollowedTasks)
        {
            return TypedResults.Problem($"One stream follows at most {MaxFollowedTasks} tasks by id; leave id out to follow every task.",
                statusCode: StatusCodes.Status400BadRequest, title: "Too many tasks");
        }
        var request = new WatchTasksRequest { TaskIds = { ids } };
        var watch = client.WatchTasks(request, cancellationToken: stop.Token);
        http.Response.RegisterForDispose(watch);
        if (await RefusalAsync(watch) is { } refusal)
        {
            return Refused(refusal);
        }
        var log = loggers.CreateLogger(typeof(TaskEventStream));
        return TypedResults.ServerSentEvents(RelayEventsAsync(watch, client, ids, log, stop.Token));
    }

    /// <summary>
    /// Null once the stream is live (WatchTasks sent its live headers); otherwise why it is not. A
    /// refusal (a bad id, the stream cap) is a trailers-only response: the call is already over,
    /// and reading the stream gives its status (the status may not be recorded yet when its
    /// headers are handed out, so the headers alone cannot tell).
    /// </summary>
    private static async Task<RpcException?> RefusalAsync(AsyncServerStreamingCall<WatchTasksResponse> watch)
    {
        try
        {
            if (WatchStreamHeaders.IsLive(await watch.ResponseHeadersAsync))
            {
                return null;
            }
            await watch.ResponseStream.MoveNext();
        }
        catch (RpcException ex)
        {
            return ex;
        }
        return new RpcException(new Status(StatusCode.Unavailable, "WatchTasks ended before it started"));
    }

    private static IResult Refused(RpcException refusal)
    {
        if (refusal.IsServiceDown())
        {
            return TypedResults.ServerSentEvents(One(Service(available: false)));
        }
        if (refusal.StatusCode == StatusCode.ResourceExhausted)
        {
            // task-service serves as many streams as it may: say so, and knock again much later.
            return TypedResults.ServerSentEvents(One(new SseItem<object>(new { reason = refusal.Status.Detail }, "paused") { ReconnectionInterval = RetryWhenBusyAfter }));
        }
        // A bad id: no stream to retry, so an HTTP error (EventSource then stops reconnecting).
        var problem = PageProblem.From(refusal);
        return TypedResults.Problem(problem.Message, statusCode: problem.StatusCode, title: problem.Title);
    }

    private static async IAsyncEnumerable<SseItem<object>> One(SseItem<object> item)
    {
        await Task.CompletedTask;
        yield return item;
    }

    private static async IAsyncEnumerable<SseItem<object>> RelayEventsAsync(
        AsyncServerStreamingCall<WatchTasksResponse> watch, TaskServiceClient client, List<string> ids, ILogger log,
        [EnumeratorCancellation] CancellationToken token)
    {
        yield return Service(available: true);
        // The tasks may have changed between the pages' render and the stream's start.
        foreach (var current in await Task.WhenAll(ids.Select(id => ReadAsync(client, id, token))))
        {
            if (current is not null)
            {
                yield return Changed(current);
            }
        }
        var changes = watch.ResponseStream;
        while (true)
        {
            bool more;
            bool? serviceDown = null;
            try
            {
                more = await changes.MoveNext(token);
            }
            catch (RpcException ex) when (!token.IsCancellationRequested)
            {
                log.LogInformation("WatchTasks ended: {Status}", ex.Status);
                more = false;
                serviceDown = ex.IsServiceDown();
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException && token.IsCancellationRequested)
            {
                // The browser left or the frontend is stopping: nothing to tell anyone.
                yield break;
            }
            if (serviceDown is { } down)
            {
                yield return Service(!down);
            }
            if (!more)
            {
                yield break;
            }
            yield return changes.Current.Deleted ? Deleted(changes.Current.Task.Id) : Changed(changes.Current.Task);
        }
    }

    private static async Task<LcsTask?> ReadAsync(TaskServiceClient client, string id, CancellationToken token)
    {
        try
        {
            // A row shows 40 code points of the result: the summary's 200 are plenty, a 10 MB result is not needed.
            return (await client.GetTaskAsync(new GetTaskRequest { Id = id, View = TaskView.Summary }, cancellationToken: token)).Task;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private static SseItem<object> Service(bool available) =>
        new(new { available }, "service") { ReconnectionInterval = ReconnectAfter };

    private static SseItem<object> Changed(LcsTask task) => new(TaskRow.From(task, DateTimeOffset.UtcNow), "task");

    // A deleted task carries only its id: there is no row to render, only one to remove.
    private static SseItem<object> Deleted(string id) => new(new { id }, "deleted");
}
