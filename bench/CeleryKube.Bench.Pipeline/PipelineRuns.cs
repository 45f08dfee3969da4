using System.Collections.Concurrent;
using System.Diagnostics;
using CeleryKube.Protos.V1;
using Grpc.Core;
using CeleryKube.Testing;
using Grpc.Net.Client;

namespace CeleryKube.Bench.Pipeline;

/// <summary>The pipeline measurements against one running TaskService.</summary>
public sealed class PipelineRuns(string taskServiceUrl, TimeSpan phaseTimeout)
{
    /// <summary>Characters per side of a small task (as issue 6 asks).</summary>
    public const int SmallTextLength = 100;

    private readonly GrpcChannel channel = NewChannel(taskServiceUrl);

    private TaskService.TaskServiceClient Client => new(channel);

    /// <summary>A channel as a real client would hold it: one per client, reused for every call.</summary>
    public static GrpcChannel NewChannel(string url) => GrpcChannel.ForAddress(url, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = null,
        MaxSendMessageSize = null,
        HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
    });

    /// <summary>A fresh small submission.</summary>
    public static SubmitLcsRequest SmallRequest() =>
        new() { TextA = Texts.Random(SmallTextLength), TextB = Texts.Random(SmallTextLength) };

    /// <summary>Sequential SubmitLcs calls; the latency of each.</summary>
    public async Task<Latencies> SubmitLatencyAsync(int count, int warmup)
    {
        var client = Client;
        for (var i = 0; i < warmup; i++) await client.SubmitLcsAsync(SmallRequest());
        var latencies = new Latencies();
        for (var i = 0; i < count; i++)
        {
            var request = SmallRequest();
            var start = Stopwatch.GetTimestamp();
            await client.SubmitLcsAsync(request);
            latencies.AddSince(start, Stopwatch.GetTimestamp());
        }
        return latencies;
    }

    /// <summary>Submit, then wait for SUCCEEDED on WatchTasks, one task at a time.</summary>
    public async Task<Latencies> EndToEndLatencyAsync(int count, int warmup)
    {
        var succeededAt = new ConcurrentDictionary<string, TaskCompletionSource<long>>();
        TaskCompletionSource<long> Slot(string id) =>
            succeededAt.GetOrAdd(id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));

        using var stop = new CancellationTokenSource();
        using var watch = Client.WatchTasks(new WatchTasksRequest { Queue = TaskQueue.Small }, cancellationToken: stop.Token);
        await watch.ResponseHeadersAsync;
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in watch.ResponseStream.ReadAllAsync(stop.Token))
                {
                    // The stamp is taken here, when the client sees the event, not when the server sent it.
                    if (change.Task.State == TaskState.Succeeded) Slot(change.Task.Id).TrySetResult(Stopwatch.GetTimestamp());
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
            {
            }
            catch (OperationCanceledException)
            {
            }
        });

        var client = Client;
        var latencies = new Latencies();
        for (var i = 0; i < warmup + count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var id = (await client.SubmitLcsAsync(SmallRequest())).Task.Id;
            var seen = await Slot(id).Task.WaitAsync(phaseTimeout);
            if (i >= warmup) latencies.AddSince(start, seen);
        }
        await stop.CancelAsync();
        await reader;
        return latencies;
    }

    /// <summary>Number of tasks in <paramref name="state"/> on <paramref name="queue"/> (ListTasks total_size).</summary>
    public async Task<int> CountAsync(TaskState state, TaskQueue queue)
    {
        var request = new ListTasksRequest { PageSize = 1, Queue = queue, IncludeTotalSize = true };
        request.States.Add(state);
        return (await Client.ListTasksAsync(request)).TotalSize;
    }

    /// <summary>
    /// <paramref name="total"/> tasks from <paramref name="clients"/> concurrent clients (each with its
    /// own channel, submitting one after another), timed from the first submit until ListTasks counts
    /// them all SUCCEEDED.
    /// </summary>
    public async Task<ThroughputResult> ThroughputAsync(int total, int clients, Func<SubmitLcsRequest> request, TaskQueue queue)
    {
        var before = await CountAsync(TaskState.Succeeded, queue);
        var perClient = total / clients;
        var expected = before + perClient * clients;
        var clock = Stopwatch.StartNew();
        var submitters = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            using var own = NewChannel(taskServiceUrl);
            var client = new TaskService.TaskServiceClient(own);
            for (var i = 0; i < perClient; i++) await client.SubmitLcsAsync(request());
        })).ToList();
        await Task.WhenAll(submitters).WaitAsync(phaseTimeout);
        var submitted = clock.Elapsed;
        var deadline = DateTime.UtcNow + phaseTimeout;
        int done;
        while ((done = await CountAsync(TaskState.Succeeded, queue)) < expected)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"only {done - before} of {expected - before} tasks SUCCEEDED within {phaseTimeout}");
            // Counting is a query on task-service: poll gently so the observer does not become load.
            await Task.Delay(100);
        }
        return new ThroughputResult(perClient * clients, submitted, clock.Elapsed);
    }
}

/// <summary>One throughput run.</summary>
/// <param name="Tasks">Tasks submitted.</param>
/// <param name="SubmitTime">Until the last submit returned.</param>
/// <param name="TotalTime">Until the last task was seen SUCCEEDED.</param>
public sealed record ThroughputResult(int Tasks, TimeSpan SubmitTime, TimeSpan TotalTime)
{
    /// <summary>Tasks per second end to end.</summary>
    public double TasksPerSecond => Tasks / TotalTime.TotalSeconds;
    /// <summary>Accepted tasks per second while submitting.</summary>
    public double SubmitsPerSecond => Tasks / SubmitTime.TotalSeconds;
}
