using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using CeleryKube.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace CeleryKube.Testing;

/// <summary>How big the flood is (issue 11 §5's figures by default).</summary>
public sealed record FloodOptions
{
    /// <summary>WatchTasks streams held open on task-service.</summary>
    public int WatchStreams { get; init; } = 300;

    /// <summary>Browser event streams (<c>/events/tasks</c> on the frontend, each one more WatchTasks behind it).</summary>
    public int BrowserStreams { get; init; } = 300;

    /// <summary>Small tasks submitted while the streams are open.</summary>
    public int Tasks { get; init; } = 200;

    /// <summary>How long the tasks may take from the first submit until the last one SUCCEEDED.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long after that every stream may take to deliver the last task's end.</summary>
    public TimeSpan StreamCatchUp { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>One submission; a fresh one for each task.</summary>
    public Func<SubmitLcsRequest> Request { get; init; } = () => new SubmitLcsRequest
    {
        TextA = "flood " + Guid.NewGuid().ToString("N"),
        TextB = Guid.NewGuid().ToString("N") + " flood",
    };

    /// <summary>Extra task-service settings (e.g. <c>Limits__MaxWatchStreams</c>).</summary>
    public IReadOnlyDictionary<string, string> TaskServiceSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Progress lines go here.</summary>
    public Action<string> Log { get; init; } = Console.WriteLine;
}

/// <summary>One stream of the flood: what it delivered, and why it failed if it did.</summary>
/// <param name="Name">"watch 12" or "browser 7".</param>
/// <param name="Events">Events received.</param>
/// <param name="TasksSeenSucceeded">Distinct flood tasks the stream showed as SUCCEEDED.</param>
/// <param name="Failure">Refused, ended before the flood was over, or broke; null when it stayed open.</param>
public sealed record FloodStream(string Name, int Events, int TasksSeenSucceeded, string? Failure);

/// <summary>What one flood found.</summary>
public sealed record FloodReport
{
    /// <summary>From the first submit until every task was SUCCEEDED in the store; null if that took longer than the deadline.</summary>
    public TimeSpan? AllSucceededAfter { get; init; }
    /// <summary>Tasks not SUCCEEDED at the deadline, as "id STATE".</summary>
    public required IReadOnlyList<string> NotSucceeded { get; init; }
    /// <summary>Every WatchTasks and browser event stream.</summary>
    public required IReadOnlyList<FloodStream> Streams { get; init; }
    /// <summary>SubmitLcs latencies.</summary>
    public required Latencies Submits { get; init; }
    /// <summary>GetClusterStatus(history_seconds=86400) latencies of the calls that answered.</summary>
    public required Latencies StatusCalls { get; init; }
    /// <summary>Cluster-status calls that failed or answered with the wrong number of throughput buckets.</summary>
    public required IReadOnlyList<string> StatusFailures { get; init; }
    /// <summary>SUCCEEDED tasks the 24-hour throughput history counted once the flood was over.</summary>
    public int HistorySucceeded { get; init; }
    /// <summary>task-service CPU time from the first submit until all tasks were done.</summary>
    public double TaskServiceCpuSeconds { get; init; }
    /// <summary>task-service resident memory when all tasks were done.</summary>
    public double TaskServiceRssMiB { get; init; }

    /// <summary>Streams that were refused, ended early or broke.</summary>
    public IEnumerable<FloodStream> FailedStreams => Streams.Where(s => s.Failure is not null);

    /// <inheritdoc />
    public override string ToString()
    {
        var s = new StringBuilder();
        s.AppendLine($"all {(AllSucceededAfter is { } done ? $"SUCCEEDED after {done.TotalSeconds:0.0} s" : $"not SUCCEEDED by the deadline ({NotSucceeded.Count} left)")}; " +
            $"submit p50 {Submits.Percentile(50):0} ms, p99 {Submits.Percentile(99):0} ms ({Submits.Count} submits)");
        s.AppendLine($"cluster status (86400 s): {StatusCalls.Count} answered, p50 {StatusCalls.Percentile(50):0} ms, p99 {StatusCalls.Percentile(99):0} ms, " +
            $"max {StatusCalls.Percentile(100):0} ms; {StatusFailures.Count} failed; history counts {HistorySucceeded} SUCCEEDED");
        s.AppendLine($"streams: {Streams.Count} ({FailedStreams.Count()} failed), events {Streams.Sum(x => x.Events):N0}, " +
            $"fewest tasks seen SUCCEEDED by one stream {(Streams.Count > 0 ? Streams.Min(x => x.TasksSeenSucceeded) : 0)}");
        s.AppendLine($"task-service: CPU {TaskServiceCpuSeconds:0.0} s, RSS {TaskServiceRssMiB:0} MiB");
        foreach (var id in NotSucceeded.Take(10)) s.AppendLine($"  not SUCCEEDED: {id}");
        foreach (var failure in StatusFailures.Take(10)) s.AppendLine($"  cluster status: {failure}");
        foreach (var stream in FailedStreams.Take(10)) s.AppendLine($"  {stream.Name}: {stream.Failure}");
        return s.ToString();
    }
}

/// <summary>
/// Issue 11 §5's flood through real processes: many WatchTasks streams and browser event streams
/// (the frontend's SSE, each one more WatchTasks behind it) stay open while small tasks run, with
/// 24-hour cluster-status calls beside them. Starts a private stack of its own (RabbitMQ,
/// task-service, one small worker, the frontend) and stops every stream and process it started,
/// also when something fails. The process test asserts what users notice; the pipeline bench
/// prints the same run as a table.
/// </summary>
public sealed class Flood(FloodOptions options)
{
    /// <summary>The history the flood's cluster-status calls ask for: a day, the most there is.</summary>
    public const int HistorySeconds = 86_400;

    /// <summary>Throughput buckets per queue a day's history has: one per 10 s (GetClusterStatusResponse.throughput), both ends included.</summary>
    public const int HistoryBucketsPerQueue = HistorySeconds / 10 + 1;

    private const int Submitters = 8;
    private const int StatusClients = 2;

    private readonly HashSet<string> taskIds = [];
    private readonly List<OpenStream> streams = [];

    /// <summary>Runs the flood on a stack of its own.</summary>
    public async Task<FloodReport> RunAsync()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("small", 16)],
            WithFrontend = true,
            TaskServiceSettings = options.TaskServiceSettings,
        });
        using var stop = new CancellationTokenSource();
        using var channel = GrpcChannel.ForAddress(stack.PublicUrl, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        var client = new TaskService.TaskServiceClient(channel);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.BrowserStreams + 10 })
        {
            BaseAddress = new Uri(stack.FrontendUrl!),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var status = new StatusCalls(client);
        Task statusLoop = Task.CompletedTask;
        try
        {
            for (var i = 0; i < options.WatchStreams; i++) await OpenWatchAsync(client, $"watch {i + 1}", stop.Token);
            for (var i = 0; i < options.BrowserStreams; i++) await OpenBrowserAsync(http, $"browser {i + 1}", stop.Token);
            options.Log($"{streams.Count(s => s.Failure is null)} of {streams.Count} streams open; load average {File.ReadAllText("/proc/loadavg").Trim()}");

            var cpuBefore = ProcessCpu.CpuMilliseconds(stack.TaskService.Pid);
            var clock = Stopwatch.StartNew();
            statusLoop = Task.WhenAll(Enumerable.Range(0, StatusClients).Select(_ => Task.Run(() => status.LoopAsync(stop.Token))));
            var submits = await SubmitAsync(client);
            var done = await WaitForAllSucceededAsync(client, clock);
            var cpu = ProcessCpu.CpuMilliseconds(stack.TaskService.Pid) - cpuBefore;
            var rss = ProcStatus.RssMiB(stack.TaskService.Pid);
            await WaitForStreamsToCatchUpAsync();

            await stop.CancelAsync();
            await statusLoop;
            var history = await status.FinalAsync();
            await Task.WhenAll(streams.Select(s => s.Reading));
            return new FloodReport
            {
                AllSucceededAfter = done,
                NotSucceeded = done is null ? await NotSucceededAsync(client) : [],
                Streams = streams.Select(s => s.Report()).ToList(),
                Submits = submits,
                StatusCalls = status.Latencies,
                StatusFailures = status.Failures,
                HistorySucceeded = history,
                TaskServiceCpuSeconds = cpu / 1000,
                TaskServiceRssMiB = rss,
            };
        }
        finally
        {
            // Streams first, so the stack's processes stop without 600 open calls to drain.
            await stop.CancelAsync();
            await Task.WhenAll(streams.Select(s => s.Reading).Append(statusLoop).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            foreach (var stream in streams) stream.Dispose();
        }
    }

    private async Task<Latencies> SubmitAsync(TaskService.TaskServiceClient client)
    {
        var latencies = new Latencies();
        await Task.WhenAll(Enumerable.Range(0, Submitters).Select(c => Task.Run(async () =>
        {
            for (var i = c; i < options.Tasks; i += Submitters)
            {
                var start = Stopwatch.GetTimestamp();
                var task = (await client.SubmitLcsAsync(options.Request(), deadline: DateTime.UtcNow.Add(options.Deadline))).Task;
                lock (latencies)
                {
                    latencies.AddSince(start, Stopwatch.GetTimestamp());
                    taskIds.Add(task.Id);
                }
            }
        })));
        return latencies;
    }

    /// <summary>
    /// Polls the store's SUCCEEDED count until it has every task: how long that took, or null when
    /// the deadline passed first.
    /// </summary>
    private async Task<TimeSpan?> WaitForAllSucceededAsync(TaskService.TaskServiceClient client, Stopwatch clock)
    {
        var count = new ListTasksRequest { PageSize = 1, IncludeTotalSize = true, States = { TaskState.Succeeded } };
        while (true)
        {
            // The stack is the flood's own: every SUCCEEDED task in it is one of the flood's.
            var succeeded = (await client.ListTasksAsync(count, deadline: DateTime.UtcNow.AddSeconds(30))).TotalSize;
            var elapsed = clock.Elapsed;
            if (elapsed > options.Deadline) return null;
            if (succeeded >= options.Tasks) return elapsed;
            await Task.Delay(100);
        }
    }

    private async Task WaitForStreamsToCatchUpAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < options.StreamCatchUp && streams.Any(s => s.Failure is null && s.SucceededCount < options.Tasks))
        {
            await Task.Delay(100);
        }
    }

    private async Task<IReadOnlyList<string>> NotSucceededAsync(TaskService.TaskServiceClient client)
    {
        var left = new List<string>();
        foreach (var id in taskIds)
        {
            var task = (await client.GetTaskAsync(new GetTaskRequest { Id = id, View = TaskView.Summary }, deadline: DateTime.UtcNow.AddSeconds(30))).Task;
            if (task.State != TaskState.Succeeded) left.Add($"{id} {task.State}");
        }
        return left;
    }

    private async Task OpenWatchAsync(TaskService.TaskServiceClient client, string name, CancellationToken stop)
    {
        var call = client.WatchTasks(new WatchTasksRequest(), cancellationToken: stop);
        var reader = new OpenStream(name, call);
        streams.Add(reader);
        try
        {
            await call.ResponseHeadersAsync;
        }
        catch (RpcException ex)
        {
            reader.Refused($"refused: {ex.Status.StatusCode} {ex.Status.Detail}");
            return;
        }
        reader.Start(async () =>
        {
            while (await call.ResponseStream.MoveNext(stop))
            {
                var change = call.ResponseStream.Current;
                reader.Saw(change.Task.Id, !change.Deleted && change.Task.State == TaskState.Succeeded);
            }
        }, stop);
    }

    private async Task OpenBrowserAsync(HttpClient http, string name, CancellationToken stop)
    {
        var response = await http.GetAsync("/events/tasks", HttpCompletionOption.ResponseHeadersRead, stop);
        var reader = new OpenStream(name, response);
        streams.Add(reader);
        if (!response.IsSuccessStatusCode)
        {
            reader.Refused($"refused: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(stop)}");
            return;
        }
        var body = await response.Content.ReadAsStreamAsync(stop);
        reader.Start(async () =>
        {
            await foreach (var item in SseParser.Create(body).EnumerateAsync(stop))
            {
                if (item.EventType != "task")
                {
                    reader.Saw(null, false);
                    continue;
                }
                // A task event is a row of the task list: its id and its state's slug (the state in lower case).
                using var row = JsonDocument.Parse(item.Data);
                var state = row.RootElement.GetProperty("state").GetString();
                reader.Saw(row.RootElement.GetProperty("id").GetString(), state == nameof(TaskState.Succeeded).ToLowerInvariant());
            }
        }, stop);
    }

    /// <summary>Reads one stream until the flood is over, counting what it delivers.</summary>
    private sealed class OpenStream(string name, IDisposable call) : IDisposable
    {
        private readonly HashSet<string> succeeded = [];
        private int events;

        public Task Reading { get; private set; } = Task.CompletedTask;
        public string? Failure { get; private set; }

        public int SucceededCount
        {
            get { lock (succeeded) return succeeded.Count; }
        }

        public void Refused(string why) => Failure = why;

        public void Start(Func<Task> read, CancellationToken stop)
        {
            Reading = Task.Run(async () =>
            {
                try
                {
                    await read();
                    if (!stop.IsCancellationRequested) Failure = "ended before the flood was over";
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                }
                catch (Exception ex)
                {
                    Failure = $"broke: {ex.GetType().Name}: {ex.Message}";
                }
            });
        }

        public void Saw(string? taskId, bool isSucceeded)
        {
            Interlocked.Increment(ref events);
            if (!isSucceeded || taskId is null) return;
            lock (succeeded) succeeded.Add(taskId);
        }

        public FloodStream Report() => new(name, events, SucceededCount, Failure);

        public void Dispose() => call.Dispose();
    }

    /// <summary>Back-to-back GetClusterStatus(history_seconds=86400) calls, each checked for its bucket count.</summary>
    private sealed class StatusCalls(TaskService.TaskServiceClient client)
    {
        public Latencies Latencies { get; } = new();
        public List<string> Failures { get; } = [];

        /// <summary>Calls until <paramref name="stop"/>; a call under way when it comes is answered and counted.</summary>
        public async Task LoopAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var response = await CallAsync();
                    lock (Failures)
                    {
                        Latencies.AddSince(start, Stopwatch.GetTimestamp());
                        if (Check(response) is { } wrong) Failures.Add(wrong);
                    }
                }
                catch (RpcException ex)
                {
                    lock (Failures) Failures.Add($"{ex.Status.StatusCode} {ex.Status.Detail}");
                }
            }
        }

        /// <summary>One more call once the flood is over: how many SUCCEEDED tasks its history counts.</summary>
        public async Task<int> FinalAsync()
        {
            var response = await CallAsync();
            if (Check(response) is { } wrong) Failures.Add(wrong);
            return response.Throughput.Sum(b => b.Succeeded);
        }

        private Task<GetClusterStatusResponse> CallAsync() =>
            client.GetClusterStatusAsync(new GetClusterStatusRequest { HistorySeconds = HistorySeconds }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;

        private static string? Check(GetClusterStatusResponse response)
        {
            var perQueue = response.Throughput.GroupBy(b => b.Queue).ToDictionary(g => g.Key, g => g.Count());
            return perQueue.Count == 2 && perQueue.Values.All(n => n == HistoryBucketsPerQueue)
                ? null
                : $"throughput buckets per queue {string.Join(", ", perQueue.Select(q => $"{q.Key} {q.Value}"))}, expected {HistoryBucketsPerQueue} for each of 2 queues";
        }
    }
}
