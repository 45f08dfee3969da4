using System.Globalization;
using System.Text;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;

namespace CeleryKube.Bench.Pipeline;

/// <summary>
/// Small-task throughput and latency on the SQLite store beside PostgreSQL with one and two
/// task-service replicas (issue 13): three stacks up at once, measured in turns (A B C A B C ...)
/// so the machine's noise falls on all alike; medians over the rounds.
/// </summary>
public static class StoreComparison
{
    private sealed record Setup(string Name, CeleryKubeStack Stack, PrivatePostgres? Postgres)
    {
        public List<double> TasksPerSecond { get; } = [];
        public List<double> TaskServiceCpuMs { get; } = [];
        public List<double> PostgresCpuMs { get; } = [];
        public double SubmitP50 { get; set; }
        public double EndToEndP50 { get; set; }
    }

    /// <summary>Runs the comparison and returns its table (Markdown).</summary>
    public static async Task<string> RunAsync(int rounds, int tasksPerRun, int smallConcurrency, TimeSpan phaseTimeout)
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        var setups = new List<Setup>();
        try
        {
            var workers = new[] { ("small", smallConcurrency) };
            setups.Add(new Setup("SQLite, 1 replica", await CeleryKubeStack.StartAsync(new StackOptions { Workers = workers }), null));
            setups.Add(new Setup("PostgreSQL, 1 replica", await CeleryKubeStack.StartAsync(new StackOptions
                { Workers = workers, Postgres = await postgres.CreateDatabaseAsync("bench1") }), postgres));
            setups.Add(new Setup("PostgreSQL, 2 replicas", await CeleryKubeStack.StartAsync(new StackOptions
                { Workers = workers, Postgres = await postgres.CreateDatabaseAsync("bench2"), TaskServiceReplicas = 2 }), postgres));

            foreach (var setup in setups)
            {
                var runs = new PipelineRuns(setup.Stack.PublicUrl, phaseTimeout);
                setup.SubmitP50 = (await runs.SubmitLatencyAsync(200, warmup: 50)).Percentile(50);
                setup.EndToEndP50 = (await runs.EndToEndLatencyAsync(100, warmup: 20)).Percentile(50);
                Console.WriteLine($"{setup.Name}: submit p50 {setup.SubmitP50:0.00} ms, end-to-end p50 {setup.EndToEndP50:0.00} ms");
            }
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var setup in setups) await MeasureAsync(setup, tasksPerRun, phaseTimeout, round);
            }
            return Table(setups, rounds, tasksPerRun);
        }
        finally
        {
            foreach (var setup in setups) await setup.Stack.DisposeAsync();
        }
    }

    private static async Task MeasureAsync(Setup setup, int tasks, TimeSpan phaseTimeout, int round)
    {
        var pids = setup.Stack.Replicas.Select(r => r.Process.Pid).ToList();
        var cpuBefore = pids.Sum(p => ProcessCpu.CpuMilliseconds(p));
        var postgresBefore = setup.Postgres is null ? 0 : PostgresCpuMilliseconds(setup.Postgres);
        var run = await new PipelineRuns(setup.Stack.PublicUrl, phaseTimeout).ThroughputAsync(tasks, 8, PipelineRuns.SmallRequest, TaskQueue.Small);
        setup.TasksPerSecond.Add(run.TasksPerSecond);
        setup.TaskServiceCpuMs.Add((pids.Sum(p => ProcessCpu.CpuMilliseconds(p)) - cpuBefore) / run.Tasks);
        // The one server serves both PostgreSQL stacks, but only one is measured at a time.
        if (setup.Postgres is not null) setup.PostgresCpuMs.Add((PostgresCpuMilliseconds(setup.Postgres) - postgresBefore) / run.Tasks);
        Console.WriteLine($"round {round}, {setup.Name}: {run.TasksPerSecond:0} tasks/s end to end, task-service {setup.TaskServiceCpuMs[^1]:0.00} CPU ms/task" +
                          (setup.Postgres is null ? "" : $", PostgreSQL {setup.PostgresCpuMs[^1]:0.00} CPU ms/task"));
    }

    private static double PostgresCpuMilliseconds(PrivatePostgres server) => ProcessCpu.ProcessTreeCpuMilliseconds(
        int.Parse(File.ReadLines(Path.Combine(server.Folder, "data", "postmaster.pid")).First(), CultureInfo.InvariantCulture));

    private static double Median(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2);

    private static string Table(List<Setup> setups, int rounds, int tasks)
    {
        var s = new StringBuilder();
        s.AppendLine($"Small tasks (2 x {PipelineRuns.SmallTextLength} chars), 8 clients, one small worker; median of {rounds} runs of {tasks} tasks each, setups in turns.");
        s.AppendLine("PostgreSQL is the test server: fsync, synchronous_commit and full_page_writes OFF (a real server commits slower); SQLite syncs as shipped.");
        s.AppendLine();
        s.AppendLine("| store | tasks/s end to end | runs | submit p50 ms | end-to-end p50 ms | task-service CPU ms/task | PostgreSQL CPU ms/task |");
        s.AppendLine("|---|---:|---|---:|---:|---:|---:|");
        foreach (var x in setups)
        {
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {x.Name} | {Median(x.TasksPerSecond):0} | {string.Join(" / ", x.TasksPerSecond.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))} | {x.SubmitP50:0.00} | {x.EndToEndP50:0.00} | {Median(x.TaskServiceCpuMs):0.00} | {(x.Postgres is null ? "n/a" : Median(x.PostgresCpuMs).ToString("0.00", CultureInfo.InvariantCulture))} |"));
        }
        return s.ToString();
    }
}
