using System.Diagnostics;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;

namespace CeleryKube.Bench.Pipeline;

/// <summary>
/// Issue 11 §5's flood: many WatchTasks streams and browser event streams (the frontend's SSE, each
/// one more WatchTasks behind it) open while small tasks run, with 24-hour cluster-status calls
/// beside them. Measures what users of the flooded service notice.
/// </summary>
public static class FloodRun
{
    /// <summary>What one flood run measured.</summary>
    public sealed record Result(string Variant, double DoneSeconds, double SubmitP50, double SubmitP99, double StatusP50, double StatusP99,
        double StatusMax, int StatusCalls, double TaskServiceCpuSeconds, double TaskServiceRssMiB, int WatchEvents, int SseBytesK);

    /// <summary>Starts a private stack from the services under <paramref name="servicesRoot"/> (null: this checkout) and floods it.</summary>
    public static async Task<Result> RunAsync(string variant, string? servicesRoot, int watchers, int browsers, int tasks, TimeSpan timeout)
    {
        Environment.SetEnvironmentVariable(RepoPaths.ServicesRootVariable, servicesRoot);
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 16)], WithFrontend = true });
        using var stop = new CancellationTokenSource();
        var channel = PipelineRuns.NewChannel(stack.PublicUrl);
        var client = new TaskService.TaskServiceClient(channel);

        var watchEvents = 0;
        var watchReaders = new List<Task>();
        for (var i = 0; i < watchers; i++)
        {
            var call = client.WatchTasks(new WatchTasksRequest(), cancellationToken: stop.Token);
            await call.ResponseHeadersAsync;
            watchReaders.Add(Task.Run(async () =>
            {
                try { while (await call.ResponseStream.MoveNext(stop.Token)) Interlocked.Increment(ref watchEvents); }
                catch (Exception) when (stop.IsCancellationRequested) { }
                finally { call.Dispose(); }
            }));
        }
        long sseBytes = 0;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = browsers + 10 })
        {
            BaseAddress = new Uri(stack.FrontendUrl!),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        for (var i = 0; i < browsers; i++)
        {
            var response = await http.GetAsync("/events/tasks", HttpCompletionOption.ResponseHeadersRead, stop.Token);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsStreamAsync(stop.Token);
            watchReaders.Add(Task.Run(async () =>
            {
                var buffer = new byte[4096];
                try { int n; while ((n = await body.ReadAsync(buffer, stop.Token)) > 0) Interlocked.Add(ref sseBytes, n); }
                catch (Exception) when (stop.IsCancellationRequested) { }
                finally { response.Dispose(); }
            }));
        }

        var cpuBefore = ProcessCpu.CpuMilliseconds(stack.TaskService.Pid);
        var clock = Stopwatch.StartNew();
        var statusLatencies = new Latencies();
        var statusCalls = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                await client.GetClusterStatusAsync(new GetClusterStatusRequest { HistorySeconds = 86_400 });
                lock (statusLatencies) statusLatencies.AddSince(start, Stopwatch.GetTimestamp());
            }
        })));
        var submitLatencies = new Latencies();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = c; i < tasks; i += 8)
            {
                var start = Stopwatch.GetTimestamp();
                await client.SubmitLcsAsync(PipelineRuns.SmallRequest());
                lock (submitLatencies) submitLatencies.AddSince(start, Stopwatch.GetTimestamp());
            }
        })));
        var runs = new PipelineRuns(stack.PublicUrl, timeout);
        while (await runs.CountAsync(TaskState.Succeeded, TaskQueue.Unspecified) < tasks)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{variant}: {tasks} tasks did not finish within {timeout}");
            await Task.Delay(100);
        }
        var done = clock.Elapsed;
        var cpu = ProcessCpu.CpuMilliseconds(stack.TaskService.Pid) - cpuBefore;
        var rss = ProcStatus.RssMiB(stack.TaskService.Pid);
        await stop.CancelAsync();
        try { await statusCalls; } catch (RpcException) { } catch (OperationCanceledException) { }
        await Task.WhenAll(watchReaders);
        channel.Dispose();
        Environment.SetEnvironmentVariable(RepoPaths.ServicesRootVariable, null);
        return new Result(variant, done.TotalSeconds, submitLatencies.Percentile(50), submitLatencies.Percentile(99), statusLatencies.Percentile(50),
            statusLatencies.Percentile(99), statusLatencies.Percentile(100), statusLatencies.Count, cpu / 1000, rss, watchEvents, (int)(sseBytes / 1024));
    }

    /// <summary>The runs as a Markdown table.</summary>
    public static string Table(IEnumerable<Result> results) =>
        "| variant | all done (s) | submit p50 (ms) | submit p99 (ms) | status(86400) p50 (ms) | p99 (ms) | max (ms) | status calls | task-service CPU (s) | task-service RSS (MiB) | watch events | SSE KiB |\n" +
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
        string.Concat(results.Select(r =>
            $"| {r.Variant} | {r.DoneSeconds:0.0} | {r.SubmitP50:0} | {r.SubmitP99:0} | {r.StatusP50:0} | {r.StatusP99:0} | {r.StatusMax:0} | {r.StatusCalls} | {r.TaskServiceCpuSeconds:0.0} | {r.TaskServiceRssMiB:0} | {r.WatchEvents:N0} | {r.SseBytesK:N0} |\n"));
}
