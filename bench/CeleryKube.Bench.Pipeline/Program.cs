using System.Diagnostics;
using System.Globalization;
using CeleryKube.Bench.Pipeline;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;

// Usage: dotnet run -c Release --project bench/CeleryKube.Bench.Pipeline -- [--quick] [--out <folder>] [--attach <taskservice-url>]
//   (no --attach)  starts a private stack (RabbitMQ node, task-service, workers) on free loopback ports
//   --attach URL   measures a running stack: latencies and throughput only (workers are not ours to add)
//   --quick        fewer tasks everywhere: a smoke run of a minute or two
//   --out FOLDER   where pipeline-results.json/.md and pipeline-throughput.svg go (default artifacts/bench)
//   --small-concurrency N   task slots per small worker (default 16, the worker's default for small)
//   --clients N    concurrent submitting clients in the throughput runs (default 8; each sends one task per call)
//   --env KEY=VALUE / --worker-env KEY=VALUE   a setting for task-service / every worker (repeatable)
//   --skip-large   leave out the large-task scaling runs (for quick comparisons of small-task changes)
//   --stores       only compare stores: SQLite beside PostgreSQL (private, fsync off) with 1 and 2 task-service replicas
//   --flood [--compare DIR] [--rounds N]   issue 11's flood instead: 300 WatchTasks + 300 browser event streams
//                  while 200 small tasks run, with 24-hour cluster-status calls beside them; with --compare,
//                  alternates runs of the services built in checkout DIR ("before") and of this one ("after")
var quick = args.Contains("--quick");
string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
if (args.Contains("--flood"))
{
    var compare = Arg("--compare");
    var rounds = int.Parse(Arg("--rounds") ?? "2", CultureInfo.InvariantCulture);
    var flood = new List<FloodRun.Result>();
    Console.WriteLine($"# flood: 300 WatchTasks + 300 SSE, 200 small tasks; load average {File.ReadAllText("/proc/loadavg").Trim()}");
    for (var round = 0; round < rounds; round++)
    {
        if (compare is not null) flood.Add(await FloodRun.RunAsync("before", compare, TimeSpan.FromMinutes(5)));
        flood.Add(await FloodRun.RunAsync(compare is null ? "this build" : "after", null, TimeSpan.FromMinutes(5)));
        Console.WriteLine(FloodRun.Table(flood.TakeLast(compare is null ? 1 : 2)));
    }
    Console.WriteLine(FloodRun.Table(flood.OrderBy(r => r.Variant)));
    return 0;
}
var attachUrl = Arg("--attach");
var outFolder = Path.GetFullPath(Arg("--out") ?? Path.Combine(RepoPaths.Root, "artifacts", "bench"));

var submitCount = quick ? 100 : 500;
var e2eCount = quick ? 50 : 200;
var throughputTasks = quick ? 1_000 : 10_000;
var clients = int.Parse(Arg("--clients") ?? "8", CultureInfo.InvariantCulture);
// Unmeasured load before the measurements, in rounds, until the services are warm: a service runs
// for days, so the figures are taken warm. Tiered JIT compilation settles after about 10 s of load
// on a quiet machine but after 30-40 s on a slower or busier one, so warm is measured, not assumed:
// the services' CPU per task stopped falling (two rounds in a row no better than 5% below the best).
var warmUpRoundTasks = quick ? 1_000 : 5_000;
var warmUpRounds = (Min: quick ? 2 : 4, Max: quick ? 4 : 16);
var largeTasks = quick ? 2 : 4;
const int LargeTextLength = 1_000_000;
var bruteForceLength = quick ? 5_000 : 20_000;
var phaseTimeout = TimeSpan.FromMinutes(quick ? 5 : 15);
// Task slots (= prefetch) per small worker; small jobs wait on two ResultSink round trips, not on CPU.
var smallConcurrency = int.Parse(Arg("--small-concurrency") ?? "16", CultureInfo.InvariantCulture);
var skipLarge = args.Contains("--skip-large");

var results = new BenchResults
{
    Date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
    Machine = $"{Environment.ProcessorCount} cores, .NET {Environment.Version}",
    Mode = (quick ? "quick" : "full") + (attachUrl is null ? ", private stack" : $", attached to {attachUrl}"),
    LoadAverageAtStart = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a",
};
Console.WriteLine($"# CeleryKube pipeline benchmark: {results.Mode}; load average {results.LoadAverageAtStart}; output to {outFolder}");

if (args.Contains("--stores"))
{
    var table = await StoreComparison.RunAsync(rounds: quick ? 2 : 3, tasksPerRun: quick ? 1_000 : 3_000, smallConcurrency, phaseTimeout);
    Console.WriteLine();
    Console.WriteLine(table);
    Directory.CreateDirectory(outFolder);
    await File.WriteAllTextAsync(Path.Combine(outFolder, "pipeline-stores.md"), table);
    return 0;
}

if (attachUrl is not null)
{
    var attached = new PipelineRuns(attachUrl, phaseTimeout);
    await MeasureLatenciesAsync(attached);
    var run = await attached.ThroughputAsync(throughputTasks, clients, PipelineRuns.SmallRequest, TaskQueue.Small);
    results.Throughput.Add(new ThroughputRow(0, run.Tasks, run.TasksPerSecond, run.SubmitsPerSecond, run.TotalTime.TotalSeconds, [], null, clients));
    results.Notes.Add("attached mode: the worker count is whatever the attached stack runs (shown as 0); raw limits not measured.");
    Finish();
    return 0;
}

// Large workers run with concurrency 1, so going from one to two large workers doubles the slots,
// which is the experiment.
// --env KEY=VALUE (repeatable) passes a setting to task-service, for experiments such as runtime knobs;
// --worker-env KEY=VALUE to every worker.
Dictionary<string, string> Settings(string flag) => args.Select((a, i) => (a, i)).Where(p => p.a == flag && p.i + 1 < args.Length)
    .Select(p => args[p.i + 1].Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
var taskServiceSettings = Settings("--env");
foreach (var (key, value) in taskServiceSettings) results.Notes.Add($"task-service setting for this run: {key}={value}");
// Workers log as deployed: the test stack's line per quick result (for tests that count applied
// results) would cost the worker and these bench clients, which read every line, CPU per task.
var workerSettings = new Dictionary<string, string> { [CeleryKubeStack.QuickResultLogLevel] = "Information" };
foreach (var (key, value) in Settings("--worker-env"))
{
    workerSettings[key] = value;
    results.Notes.Add($"worker setting for this run: {key}={value}");
}
await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
{
    Workers = [("small", smallConcurrency)],
    TaskServiceSettings = taskServiceSettings,
    WorkerSettings = workerSettings,
});
var runs = new PipelineRuns(stack.PublicUrl, phaseTimeout);
var rabbitPid = ProcStatus.FindRabbitPid(stack.Rabbit.Port);
Console.WriteLine($"stack up: task-service {stack.PublicUrl} (pid {stack.TaskService.Pid}), RabbitMQ pid {rabbitPid}, folder {stack.Folder}");

// Raw limits first, while the stack is idle, on the same broker node and the same disk.
results.RawSqliteTasksPerSecondGrouped = RawSqliteLimit.TasksPerSecond(Path.Combine(stack.Folder, "tasks.db"), stack.Folder, quick ? 5_120 : 20_480, 256);
results.RawSqliteTasksPerSecondCommitEach = RawSqliteLimit.TasksPerSecond(Path.Combine(stack.Folder, "tasks.db"), stack.Folder, quick ? 200 : 1_000, 1);
Console.WriteLine($"raw SQLite: {results.RawSqliteTasksPerSecondGrouped:0} tasks/s grouped, {results.RawSqliteTasksPerSecondCommitEach:0} tasks/s committing each write");
results.RawRabbitMqMessagesPerSecond = await RawRabbitMqLimit.MessagesPerSecondAsync(stack.Rabbit.Uri, quick ? 5_000 : 20_000, PipelineRuns.SmallTextLength, phaseTimeout);
Console.WriteLine($"raw RabbitMQ round trip: {results.RawRabbitMqMessagesPerSecond:0} msg/s");

await WarmUpAsync();
await MeasureLatenciesAsync(runs);
await MeasureThroughputAsync(1);
await stack.StartWorkerAsync("small", smallConcurrency);
await WarmUpAsync();
await MeasureThroughputAsync(2);
results.Notes.Add($"small workers: concurrency (slots = prefetch) {smallConcurrency} each; large workers: concurrency 1 each, so a second worker doubles the slots.");
if (skipLarge)
{
    Finish();
    return 0;
}

var largeA = Enumerable.Range(0, largeTasks).Select(_ => (Texts.Random(LargeTextLength), Texts.Random(LargeTextLength))).ToList();
var bruteA = Enumerable.Range(0, largeTasks).Select(_ => (Texts.Random(bruteForceLength, "ACGT"), Texts.Random(bruteForceLength, "ACGT"))).ToList();
var workersBefore = stack.Workers.Count;
await stack.StartWorkerAsync("large", 1);
var largeOne = await TimeLargeAsync(largeA, LcsAlgorithm.Unspecified);
var bruteOne = await TimeLargeAsync(bruteA, LcsAlgorithm.BruteForce);
await stack.StartWorkerAsync("large", 1);
var largeTwo = await TimeLargeAsync(largeA, LcsAlgorithm.Unspecified);
var bruteTwo = await TimeLargeAsync(bruteA, LcsAlgorithm.BruteForce);
results.Scaling.Add(new ScalingRow("default algorithm (suffix array)", largeTasks, LargeTextLength, largeOne, largeTwo));
results.Scaling.Add(new ScalingRow("brute force", largeTasks, bruteForceLength, bruteOne, bruteTwo));
Console.WriteLine($"large workers started: {stack.Workers.Count - workersBefore}");

Finish();
return 0;

async Task MeasureLatenciesAsync(PipelineRuns target)
{
    var submit = await target.SubmitLatencyAsync(submitCount, warmup: 50);
    (results.SubmitP50Ms, results.SubmitP99Ms, results.SubmitSamples) = (submit.Percentile(50), submit.Percentile(99), submit.Count);
    Console.WriteLine($"submit latency: p50 {results.SubmitP50Ms:0.00} ms, p99 {results.SubmitP99Ms:0.00} ms");
    var e2e = await target.EndToEndLatencyAsync(e2eCount, warmup: 20);
    (results.EndToEndP50Ms, results.EndToEndP99Ms, results.EndToEndSamples) = (e2e.Percentile(50), e2e.Percentile(99), e2e.Count);
    Console.WriteLine($"end-to-end latency: p50 {results.EndToEndP50Ms:0.00} ms, p99 {results.EndToEndP99Ms:0.00} ms");
}

async Task WarmUpAsync()
{
    var services = new List<int> { stack.TaskService.Pid };
    services.AddRange(stack.Workers.Where(w => w.IsRunning).Select(w => w.Pid));
    double ServicesCpu() => services.Sum(pid => ProcessCpu.CpuMilliseconds(pid));
    var (best, roundsNotBetter, tasks) = (double.MaxValue, 0, 0);
    var clock = Stopwatch.StartNew();
    var perTask = new List<double>();
    for (var round = 1; round <= warmUpRounds.Max; round++)
    {
        var cpuBefore = ServicesCpu();
        var run = await runs.ThroughputAsync(warmUpRoundTasks, clients, PipelineRuns.SmallRequest, TaskQueue.Small);
        tasks += run.Tasks;
        var cpu = (ServicesCpu() - cpuBefore) / run.Tasks;
        perTask.Add(cpu);
        roundsNotBetter = cpu < best * 0.95 ? 0 : roundsNotBetter + 1;
        best = Math.Min(best, cpu);
        if (round >= warmUpRounds.Min && roundsNotBetter >= 2) break;
    }
    Console.WriteLine($"warm-up (not measured): {tasks} small tasks in {clock.Elapsed.TotalSeconds:0} s; " +
        $"services' CPU ms/task by round of {warmUpRoundTasks}: {string.Join(" ", perTask.Select(c => c.ToString("0.00", CultureInfo.InvariantCulture)))}");
}

async Task MeasureThroughputAsync(int smallWorkers)
{
    var processes = new List<(string Name, int Pid)> { ("task-service", stack.TaskService.Pid), ("RabbitMQ", rabbitPid) };
    processes.AddRange(stack.Workers.Where(w => w.IsRunning && w.Name.Contains("small")).Select(w => ("small workers", w.Pid)));
    processes.Add(("bench clients", Environment.ProcessId));
    var cpuBefore = processes.Select(p => ProcessCpu.CpuMilliseconds(p.Pid)).ToList();
    var commitsBefore = await StoreMetrics.CommitsAsync(stack.MetricsPort);
    var run = await runs.ThroughputAsync(throughputTasks, clients, PipelineRuns.SmallRequest, TaskQueue.Small);
    var commitsAfter = await StoreMetrics.CommitsAsync(stack.MetricsPort);
    var cpu = processes.Select((p, i) => (p.Name, Ms: (ProcessCpu.CpuMilliseconds(p.Pid) - cpuBefore[i]) / run.Tasks))
        .GroupBy(p => p.Name).Select(g => new CpuPerTask(g.Key, g.Sum(p => p.Ms))).ToList();
    double? commitsPerTask = commitsBefore is { } b && commitsAfter is { } a ? (a - b) / run.Tasks : null;
    results.Throughput.Add(new ThroughputRow(smallWorkers, run.Tasks, run.TasksPerSecond, run.SubmitsPerSecond, run.TotalTime.TotalSeconds, cpu, commitsPerTask, clients));
    Console.WriteLine($"throughput, {smallWorkers} small worker(s): {run.TasksPerSecond:0} tasks/s end to end ({run.SubmitsPerSecond:0} submits/s); " +
        $"CPU ms/task: {string.Join(", ", cpu.Select(c => $"{c.Process} {c.Milliseconds:0.00}"))}; commits/task {commitsPerTask:0.000}");
}

async Task<double> TimeLargeAsync(List<(string A, string B)> texts, LcsAlgorithm algorithm)
{
    // CPU the large workers used over the wall time = cores they actually got; on a shared machine
    // this tells "no spare core" apart from "the second worker did not help".
    var largeWorkers = stack.Workers.Where(w => w.IsRunning && w.Name.Contains("large")).Select(w => w.Pid).ToList();
    var cpuBefore = largeWorkers.Sum(p => ProcessCpu.CpuMilliseconds(p));
    var clock = Stopwatch.StartNew();
    var ids = new List<string>();
    foreach (var (a, b) in texts) ids.Add((await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = a, TextB = b, Algorithm = algorithm })).Task.Id);
    foreach (var id in ids)
    {
        var done = await stack.WaitForFinalAsync(id, phaseTimeout);
        if (done.State != TaskState.Succeeded) throw new InvalidOperationException($"large task {id} ended {done.State}: {done.Error}");
    }
    var seconds = clock.Elapsed.TotalSeconds;
    var coresUsed = (largeWorkers.Sum(p => ProcessCpu.CpuMilliseconds(p)) - cpuBefore) / 1000 / seconds;
    var line = $"{ids.Count} x {algorithm} on {texts[0].A.Length:N0} chars with {largeWorkers.Count} large worker(s): {seconds:0.0} s, large workers busy {coresUsed:0.00} cores on average";
    Console.WriteLine(line);
    results.Notes.Add(line);
    return seconds;
}

void Finish()
{
    var table = Report.Table(results);
    Console.WriteLine();
    Console.WriteLine(table);
    Report.Write(results, outFolder);
    Console.WriteLine($"written: {outFolder}/pipeline-results.json, pipeline-results.md, pipeline-throughput.svg");
}
