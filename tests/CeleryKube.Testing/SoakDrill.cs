using CeleryKube.Protos;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using CeleryKube.Protos.V1;
using Grpc.Core;

namespace CeleryKube.Testing;

/// <summary>How long and how rough the soak drill is.</summary>
public sealed record SoakOptions
{
    /// <summary>How long load and faults run (the final drain comes on top).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>About this often a random worker is SIGKILLed and restarted.</summary>
    public TimeSpan WorkerKillInterval { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Small submissions per second (bounded so the backlog stays finite on 2 cores).</summary>
    public int SmallPerSecond { get; init; } = 20;
    /// <summary>How long to wait after the load for every accepted task to finish.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>Seed of the fault schedule and the inputs.</summary>
    public int Seed { get; init; } = 6;
    /// <summary>Progress lines go here.</summary>
    public Action<string> Log { get; init; } = Console.WriteLine;

    /// <summary>
    /// Scale-out mode: a RabbitMQ cluster whose node task-service uses is stopped and started
    /// again (instead of restarting a private broker). Needs <see cref="Postgres"/>.
    /// </summary>
    public PrivateRabbitMqCluster? Cluster { get; init; }

    /// <summary>
    /// Scale-out mode: an Npgsql connection string; the store lives there and two task-service
    /// replicas share it, one of which is SIGKILLed and started again (instead of the one task-service).
    /// </summary>
    public string? Postgres { get; init; }
}

/// <summary>Memory of one service at the start and the end of the drill.</summary>
public sealed record MemoryReading(string Service, double StartMiB, double EndMiB, string Note);

/// <summary>What the drill found.</summary>
public sealed record SoakReport
{
    public int Accepted { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int Cancelled { get; init; }
    /// <summary>Accepted but still not in a final state after the drain.</summary>
    public required IReadOnlyList<string> NotFinal { get; init; }
    /// <summary>Accepted but not in the store at all.</summary>
    public required IReadOnlyList<string> Missing { get; init; }
    /// <summary>Tasks whose result was applied more than once, or that are inconsistent (e.g. SUCCEEDED without a result).</summary>
    public required IReadOnlyList<string> Duplicated { get; init; }
    public int WorkerKills { get; init; }
    public int SubmitRetries { get; init; }
    public int RedeliveredAttempts { get; init; }
    public required IReadOnlyList<MemoryReading> Memory { get; init; }

    /// <summary>Lost = missing from the store or never finished.</summary>
    public int Lost => Missing.Count + NotFinal.Count;

    /// <summary>True when nothing was lost or duplicated.</summary>
    public bool Passed => Lost == 0 && Duplicated.Count == 0;

    /// <inheritdoc />
    public override string ToString()
    {
        var s = new StringBuilder();
        s.AppendLine($"accepted {Accepted}: succeeded {Succeeded}, failed {Failed}, cancelled {Cancelled}; lost {Lost} (missing {Missing.Count}, not final {NotFinal.Count}); duplicated {Duplicated.Count}");
        s.AppendLine($"worker kills {WorkerKills}, submit retries {SubmitRetries}, tasks that needed more than one attempt {RedeliveredAttempts}");
        foreach (var m in Memory) s.AppendLine($"RSS {m.Service}: {m.StartMiB:0} MiB at start, {m.EndMiB:0} MiB at end{(m.Note.Length > 0 ? " (" + m.Note + ")" : "")}");
        foreach (var id in Missing.Take(10)) s.AppendLine($"  missing: {id}");
        foreach (var id in NotFinal.Take(10)) s.AppendLine($"  not final: {id}");
        foreach (var id in Duplicated.Take(10)) s.AppendLine($"  duplicated/inconsistent: {id}");
        return s.ToString();
    }
}

/// <summary>
/// The soak drill of issue 6: mixed small, large and cancelled tasks while workers are SIGKILLed and
/// restarted, RabbitMQ restarts once and task-service restarts once; then every accepted task
/// must be final, present once, with at most one applied result. In scale-out mode (issue 13) the
/// store is PostgreSQL behind two replicas, one of which is killed, and the broker a cluster that
/// loses a node for a while.
/// </summary>
public sealed class SoakDrill(SoakOptions options)
{
    private readonly ConcurrentDictionary<string, string> accepted = new(); // task id -> kind
    private readonly Random random = new(options.Seed);
    private readonly ConcurrentDictionary<string, double> beforeRestart = new(); // service -> RSS MiB just before its restart
    private int submitRetries;
    private int workerKills;

    /// <summary>Starts a private stack, runs the drill and reports. Never throws for a failed check; see <see cref="SoakReport.Passed"/>.</summary>
    public async Task<SoakReport> RunAsync()
    {
        var log = options.Log;
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [("small", 2), ("small", 2), ("large", 1), ("large", 1)],
            // Short leases so a task whose worker died is taken back quickly within a short drill.
            TaskServiceSettings = new Dictionary<string, string> { ["Leases__Duration"] = "00:00:10" },
            Cluster = options.Cluster,
            Postgres = options.Postgres,
            TaskServiceReplicas = options.Postgres is null ? 1 : 2,
        });
        var memoryStart = MemoryNow(stack);
        log($"soak: stack up in {stack.Folder}; running {options.Duration} of load with faults");

        // Load and worker kills run for the duration, and at least until both one-time restarts are done
        // (a broker restart can take tens of seconds on a busy machine).
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => LoadAsync(stack, stop.Token));
        var kills = Task.Run(() => WorkerKillsAsync(stack, clock, stop.Token));
        await Task.Run(() => OneTimeFaultsAsync(stack, clock));
        await Delay(options.Duration - clock.Elapsed, CancellationToken.None);
        await stop.CancelAsync();
        await Task.WhenAll(load, kills);
        log($"soak: load stopped after {accepted.Count} accepted tasks; draining");

        // Every killed worker is back by now; wait for the backlog to finish.
        var rows = await DrainAsync(stack);
        var memoryEnd = MemoryNow(stack);
        var report = Check(stack, rows, memoryStart, memoryEnd);
        log("soak: " + report);
        return report;
    }

    private async Task LoadAsync(CeleryKubeStack stack, CancellationToken stop)
    {
        var interval = TimeSpan.FromSeconds(1.0 / options.SmallPerSecond);
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            n++;
            var clock = Stopwatch.StartNew();
            if (n % 40 == 0) await SubmitCancelledAsync(stack, n, stop);
            else if (n % 20 == 0) await SubmitAsync(stack, $"soak-{options.Seed}-{n}", "large", LargeRequest(n), stop);
            else await SubmitAsync(stack, $"soak-{options.Seed}-{n}", "small", new SubmitLcsRequest { TextA = $"soak small {n} alpha", TextB = $"beta {n} soak" }, stop);
            var left = interval - clock.Elapsed;
            if (left > TimeSpan.Zero) await Delay(left, stop);
        }
    }

    private static SubmitLcsRequest LargeRequest(int n)
    {
        var random = new Random(n);
        string Text() => new(Enumerable.Range(0, 4_000).Select(_ => "ACGT"[random.Next(4)]).ToArray());
        return new SubmitLcsRequest { TextA = Text(), TextB = Text(), Algorithm = LcsAlgorithm.DynamicProgramming };
    }

    /// <summary>A slow job (seconds of DP) cancelled shortly after it was accepted.</summary>
    private async Task SubmitCancelledAsync(CeleryKubeStack stack, int n, CancellationToken stop)
    {
        var random = new Random(n);
        string Text() => new(Enumerable.Range(0, 20_000).Select(_ => "ACGT"[random.Next(4)]).ToArray());
        var id = await SubmitAsync(stack, $"soak-{options.Seed}-{n}", "cancelled",
            new SubmitLcsRequest { TextA = Text(), TextB = Text(), Algorithm = LcsAlgorithm.DynamicProgramming }, stop);
        if (id is null) return;
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300 + n % 7 * 200));
            try
            {
                await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(10));
            }
            catch (RpcException)
            {
                // Already finished, or task-service was restarting: the task still has to end final.
            }
        });
    }

    /// <summary>Submits with an idempotency key, retrying until accepted, so "accepted" is exact.</summary>
    private async Task<string?> SubmitAsync(CeleryKubeStack stack, string key, string kind, SubmitLcsRequest request, CancellationToken stop)
    {
        request.IdempotencyKey = key;
        for (var attempt = 0; attempt < 120; attempt++)
        {
            try
            {
                var response = await stack.Tasks.SubmitLcsAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
                accepted[response.Task.Id] = kind;
                return response.Task.Id;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Cancelled)
            {
                // Broker or task-service restarting. The same key makes a retry of a committed submit harmless.
                Interlocked.Increment(ref submitRetries);
                await Task.Delay(500, CancellationToken.None);
            }
        }
        throw new TimeoutException($"submit {key} was not accepted after 120 tries");
    }

    /// <summary>RabbitMQ restarts at 25% of the duration, task-service at 60%; done even if the machine is slow.</summary>
    private async Task OneTimeFaultsAsync(CeleryKubeStack stack, Stopwatch clock)
    {
        await Delay(options.Duration * 0.25 - clock.Elapsed, CancellationToken.None);
        if (options.Cluster is { } cluster)
        {
            var node = await cluster.WaitForNodeOfClientAsync("task-service", TimeSpan.FromSeconds(20));
            options.Log($"soak {clock.Elapsed:mm\\:ss}: stopping RabbitMQ node {cluster.Nodes[node].Name} (task-service's) and starting it again");
            await cluster.StopNodeAsync(node);
            await cluster.StartNodeAsync(node);
            await cluster.WaitForAllRunningAsync(TimeSpan.FromSeconds(90));
        }
        else
        {
            options.Log($"soak {clock.Elapsed:mm\\:ss}: restarting RabbitMQ");
            beforeRestart["RabbitMQ"] = ProcStatus.RssMiB(ProcStatus.FindRabbitPid(stack.Rabbit.Port));
            await stack.Rabbit.RestartAsync();
        }
        options.Log($"soak {clock.Elapsed:mm\\:ss}: RabbitMQ is back");
        await Delay(options.Duration * 0.6 - clock.Elapsed, CancellationToken.None);
        var replica = stack.Replicas[^1];
        options.Log($"soak {clock.Elapsed:mm\\:ss}: SIGKILL {replica.Process.Name} and start it again");
        beforeRestart[replica.Process.Name] = ProcStatus.RssMiB(replica.Process.Pid);
        await replica.Process.KillAsync();
        await replica.StartAsync();
        options.Log($"soak {clock.Elapsed:mm\\:ss}: {replica.Process.Name} is back");
    }

    /// <summary>About every <see cref="SoakOptions.WorkerKillInterval"/>, SIGKILL a random worker and start it again.</summary>
    private async Task WorkerKillsAsync(CeleryKubeStack stack, Stopwatch clock, CancellationToken stop)
    {
        while (true)
        {
            await Delay(Jitter(options.WorkerKillInterval), stop);
            if (stop.IsCancellationRequested) return;
            var victim = stack.Workers[random.Next(stack.Workers.Count)];
            options.Log($"soak {clock.Elapsed:mm\\:ss}: SIGKILL {victim.Name} and start it again");
            await victim.KillAsync();
            workerKills++;
            await victim.StartAsync($"consuming lcs.{(victim.Name.Contains("large") ? "large" : "small")}", TimeSpan.FromSeconds(120));
        }
    }

    private TimeSpan Jitter(TimeSpan around) => around * (0.75 + random.NextDouble() * 0.5);

    private static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        if (delay <= TimeSpan.Zero) return;
        try { await Task.Delay(delay, stop); } catch (OperationCanceledException) { }
    }

    private async Task<Dictionary<string, LcsTask>> DrainAsync(CeleryKubeStack stack)
    {
        var deadline = DateTime.UtcNow + options.DrainTimeout;
        while (true)
        {
            var rows = await ReadAllAsync(stack);
            var open = accepted.Keys.Count(id => !rows.TryGetValue(id, out var t) || !TaskStates.IsFinal(t.State));
            if (open == 0 || DateTime.UtcNow > deadline) return rows;
            options.Log($"soak: {open} accepted tasks not final yet");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
    }

    private static async Task<Dictionary<string, LcsTask>> ReadAllAsync(CeleryKubeStack stack)
    {
        var rows = new Dictionary<string, LcsTask>();
        var request = new ListTasksRequest { PageSize = 1000 };
        for (var page = 0; page < 10_000; page++)
        {
            var response = await Eventually.Until(async () => await stack.Tasks.ListTasksAsync(request, deadline: DateTime.UtcNow.AddSeconds(20)),
                TimeSpan.FromSeconds(60), "ListTasks to answer");
            foreach (var task in response.Tasks)
            {
                // The same id on two pages would be a duplicate row: keep the sign by marking it.
                if (!rows.TryAdd(task.Id, task)) rows[task.Id + "#dup"] = task;
            }
            if (response.NextPageToken.Length == 0) break;
            request.PageToken = response.NextPageToken;
        }
        return rows;
    }


    private SoakReport Check(CeleryKubeStack stack, Dictionary<string, LcsTask> rows, List<(string Service, int Pid, double MiB)> start,
        List<(string Service, int Pid, double MiB)> end)
    {
        var missing = accepted.Keys.Where(id => !rows.ContainsKey(id)).ToList();
        var notFinal = accepted.Keys.Where(id => rows.TryGetValue(id, out var t) && !TaskStates.IsFinal(t.State)).ToList();
        var duplicated = new HashSet<string>(rows.Keys.Where(k => k.EndsWith("#dup", StringComparison.Ordinal)));

        foreach (var (id, count) in AppliedResults.Count(stack.Workers))
        {
            if (count > 1) duplicated.Add($"{id} (result applied {count} times)");
        }
        foreach (var (id, task) in rows)
        {
            if (task.State == TaskState.Succeeded && (task.Result is null || task.Attempts < 1)) duplicated.Add($"{id} (SUCCEEDED without a result or attempt)");
        }

        var ours = rows.Where(r => accepted.ContainsKey(r.Key)).Select(r => r.Value).ToList();
        var memory = start.Select(s =>
        {
            var e = end.FirstOrDefault(x => x.Service == s.Service);
            var note = beforeRestart.TryGetValue(s.Service, out var before) ? $"{before:0} MiB just before its restart"
                : e.Pid != s.Pid ? "restarted (killed) during the drill" : "";
            return new MemoryReading(s.Service, s.MiB, e.MiB, note);
        }).ToList();
        return new SoakReport
        {
            Accepted = accepted.Count,
            Succeeded = ours.Count(t => t.State == TaskState.Succeeded),
            Failed = ours.Count(t => t.State == TaskState.Failed),
            Cancelled = ours.Count(t => t.State == TaskState.Cancelled),
            Missing = missing,
            NotFinal = notFinal,
            Duplicated = [.. duplicated],
            WorkerKills = workerKills,
            SubmitRetries = submitRetries,
            RedeliveredAttempts = ours.Count(t => t.Attempts > 1),
            Memory = memory,
        };
    }

    private List<(string Service, int Pid, double MiB)> MemoryNow(CeleryKubeStack stack)
    {
        var list = stack.Replicas.Select(r => (r.Process.Name, r.Process.Pid, ProcStatus.RssMiB(r.Process.Pid))).ToList();
        list.AddRange(stack.Workers.Select(w => (w.Name, w.Pid, ProcStatus.RssMiB(w.Pid))));
        // In a cluster, the first node stands for all (it is never the one stopped unless task-service used it).
        var brokerPid = ProcStatus.FindRabbitPid(options.Cluster?.Nodes[0].Port ?? stack.Rabbit.Port);
        list.Add(("RabbitMQ", brokerPid, ProcStatus.RssMiB(brokerPid)));
        return list;
    }
}
