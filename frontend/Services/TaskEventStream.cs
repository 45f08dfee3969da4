using System.Text.Json;
using CeleryKube.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// <c>GET /events/tasks[?id=...]</c>: server-sent events relaying TaskService.WatchTasks to the
/// browser. Events: <c>service</c> (<c>{"available":bool}</c>) and <c>task</c> (<see cref="TaskEvent"/>).
/// When the service goes away the response ends and the browser's EventSource reconnects by itself
/// every few seconds, which is how the pages notice that it is back.
/// </summary>
public static class TaskEventStream
{
    /// <summary>One task change as the page script sees it.</summary>
    /// <param name="Id">Task id.</param>
    /// <param name="State">State slug, e.g. <c>running</c>.</param>
    /// <param name="Progress">0 to 1.</param>
    public sealed record TaskEvent(string Id, string State, double Progress);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps the event stream endpoint.</summary>
    public static IEndpointRouteBuilder MapTaskEvents(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/events/tasks", RelayAsync);
        return endpoints;
    }

    private static async Task RelayAsync(HttpContext http, TaskServiceClient client, IHostApplicationLifetime lifetime, ILoggerFactory loggers, string? id)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // Stop relaying when the browser leaves or the frontend shuts down (else shutdown waits for us).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var token = stop.Token;

        await WriteAsync(http, "retry: 3000\n\n", token);
        try
        {
            var request = new WatchTasksRequest();
            if (!string.IsNullOrEmpty(id))
            {
                request.TaskIds.Add(id);
            }
            using var watch = client.WatchTasks(request, cancellationToken: token);
            // The stream says nothing until a task changes; a unary call tells us now whether the
            // service is up, so the page can clear its banner at once. For one task it also
            // reads the task, since it may have changed between the page's render and now.
            LcsTask? current = null;
            if (string.IsNullOrEmpty(id))
            {
                await client.ListTasksAsync(new ListTasksRequest { PageSize = 1 }, cancellationToken: token);
            }
            else
            {
                current = (await client.GetTaskAsync(new GetTaskRequest { Id = id }, cancellationToken: token)).Task;
            }
            await WriteEventAsync(http, "service", new { available = true }, token);
            if (current is not null)
            {
                await WriteEventAsync(http, "task", new TaskEvent(current.Id, current.State.Slug(), current.Progress), token);
            }

            await foreach (var change in watch.ResponseStream.ReadAllAsync(token))
            {
                var task = change.Task;
                await WriteEventAsync(http, "task", new TaskEvent(task.Id, task.State.Slug(), task.Progress), token);
            }
        }
        catch (RpcException ex) when (!token.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(TaskEventStream)).LogInformation("WatchTasks ended: {Status}", ex.Status);
            await WriteEventAsync(http, "service", new { available = !ex.IsServiceDown() }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException && token.IsCancellationRequested)
        {
            // The browser left or the frontend is stopping: nothing to tell anyone.
        }
    }

    private static Task WriteEventAsync(HttpContext http, string name, object data, CancellationToken token) =>
        WriteAsync(http, $"event: {name}\ndata: {JsonSerializer.Serialize(data, Json)}\n\n", token);

    private static async Task WriteAsync(HttpContext http, string text, CancellationToken token)
    {
        await http.Response.WriteAsync(text, token);
        await http.Response.Body.FlushAsync(token);
    }
}
