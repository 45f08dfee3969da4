using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CeleryKube.Bench.Pipeline;

/// <summary>The table (markdown, printed), the JSON file and a hand-written SVG bar chart.</summary>
public static class Report
{
    /// <summary>Issue 9 targets.</summary>
    public const double TargetTasksPerSecond = 2_000, StretchTasksPerSecond = 5_000, TargetE2eP50 = 3, TargetE2eP99 = 10,
        TargetSubmitP50 = 1.5, TargetSubmitP99 = 5, TargetCpuMsPerTask = 0.8, TargetShareOfSlowerLimit = 0.3;

    private static string F(double value, string format = "0.0") =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Met(bool met) => met ? "yes" : "**no**";

    /// <summary>The slower of the two raw limits, in tasks per second.</summary>
    public static double SlowerLimit(BenchResults r) =>
        new[] { r.RawRabbitMqMessagesPerSecond, r.RawSqliteTasksPerSecondGrouped }.Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Min();

    /// <summary>Markdown table of every figure against its target and the raw limits.</summary>
    public static string Table(BenchResults r)
    {
        var s = new StringBuilder();
        var limit = SlowerLimit(r);
        s.AppendLine($"Run: {r.Date}, {r.Machine}, mode {r.Mode}, load average at start {r.LoadAverageAtStart}");
        s.AppendLine();
        s.AppendLine("| measure | result | target | met |");
        s.AppendLine("|---|---:|---:|---|");
        s.AppendLine($"| submit latency p50 / p99 ({r.SubmitSamples} sequential) | {F(r.SubmitP50Ms, "0.00")} / {F(r.SubmitP99Ms, "0.00")} ms | <= {TargetSubmitP50} / {TargetSubmitP99} ms | {Met(r.SubmitP50Ms <= TargetSubmitP50 && r.SubmitP99Ms <= TargetSubmitP99)} |");
        s.AppendLine($"| end-to-end latency p50 / p99 ({r.EndToEndSamples} one at a time, via WatchTasks) | {F(r.EndToEndP50Ms, "0.00")} / {F(r.EndToEndP99Ms, "0.00")} ms | <= {TargetE2eP50} / {TargetE2eP99} ms | {Met(r.EndToEndP50Ms <= TargetE2eP50 && r.EndToEndP99Ms <= TargetE2eP99)} |");
        foreach (var t in r.Throughput)
        {
            s.AppendLine($"| small tasks end to end, {t.Workers} small worker(s), {t.Tasks:N0} tasks, {t.Clients} clients | {F(t.TasksPerSecond, "0")} tasks/s ({F(t.TasksPerSecond / limit * 100, "0")}% of slower limit) | >= {TargetTasksPerSecond:0} (stretch {StretchTasksPerSecond:0}), >= {TargetShareOfSlowerLimit * 100:0}% of slower limit | {Met(t.TasksPerSecond >= TargetTasksPerSecond && t.TasksPerSecond >= TargetShareOfSlowerLimit * limit)} |");
            // An attached run measures no process's CPU.
            if (t.CpuPerTask.Count > 0)
            {
                s.AppendLine($"| CPU per small task, all processes, {t.Workers} small worker(s) | {F(t.TotalCpuMsPerTask, "0.00")} ms | <= {TargetCpuMsPerTask} ms | {Met(t.TotalCpuMsPerTask <= TargetCpuMsPerTask)} |");
            }
        }
        foreach (var g in r.Scaling)
        {
            s.AppendLine($"| {g.Kind}: {g.Tasks} tasks of {g.TextLength:N0} chars, 1 -> 2 large workers | {F(g.SecondsWithOneWorker, "0.0")} s -> {F(g.SecondsWithTwoWorkers, "0.0")} s (x{F(g.Speedup, "0.00")}) | nearly x2 | {Met(g.Speedup >= 1.7)} |");
        }
        s.AppendLine($"| raw limit: RabbitMQ round trip (quorum, confirms {RawRabbitMqLimit.ConfirmsInFlight} in flight, prefetch {RawRabbitMqLimit.ConsumerPrefetch}, ack each) | {F(r.RawRabbitMqMessagesPerSecond, "0")} msg/s | | |");
        s.AppendLine($"| raw limit: SQLite writes of one task, 256 tasks per commit (4 commits per group) | {F(r.RawSqliteTasksPerSecondGrouped, "0")} tasks/s | | |");
        s.AppendLine($"| raw SQLite writes of one task, every write its own commit (4 commits per task) | {F(r.RawSqliteTasksPerSecondCommitEach, "0")} tasks/s | | |");
        s.AppendLine();
        s.AppendLine("CPU milliseconds per small task, by process (utime+stime from /proc during the throughput run):");
        s.AppendLine();
        var processes = r.Throughput.SelectMany(t => t.CpuPerTask.Select(c => c.Process)).Distinct().ToList();
        s.AppendLine("| small workers | " + string.Join(" | ", processes) + " | total | SQLite commits per task |");
        s.AppendLine("|---:|" + string.Concat(processes.Select(_ => "---:|")) + "---:|---:|");
        foreach (var t in r.Throughput)
        {
            var cells = processes.Select(p => F(t.CpuPerTask.Where(c => c.Process == p).Sum(c => c.Milliseconds), "0.00"));
            s.AppendLine($"| {t.Workers} | {string.Join(" | ", cells)} | {F(t.TotalCpuMsPerTask, "0.00")} | {F(t.StoreCommitsPerTask ?? double.NaN, "0.000")} |");
        }
        if (r.Notes.Count > 0)
        {
            s.AppendLine();
            foreach (var note in r.Notes) s.AppendLine($"* {note}");
        }
        return s.ToString();
    }

    /// <summary>Writes results.json, results.md and throughput.svg into <paramref name="folder"/>.</summary>
    public static void Write(BenchResults r, string folder)
    {
        Directory.CreateDirectory(folder);
        var json = JsonSerializer.Serialize(r, new JsonSerializerOptions
        {
            WriteIndented = true,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
        File.WriteAllText(Path.Combine(folder, "pipeline-results.json"), json);
        File.WriteAllText(Path.Combine(folder, "pipeline-results.md"), Table(r));
        File.WriteAllText(Path.Combine(folder, "pipeline-throughput.svg"), Chart(r));
    }

    /// <summary>Horizontal bars of tasks (or messages) per second, with the target as a line.</summary>
    public static string Chart(BenchResults r)
    {
        var bars = new List<(string Label, double Value, string Colour)>();
        foreach (var t in r.Throughput) bars.Add(($"pipeline, {t.Workers} small worker(s)", t.TasksPerSecond, "#3b7dd8"));
        bars.Add(("raw RabbitMQ round trip", r.RawRabbitMqMessagesPerSecond, "#e8833a"));
        bars.Add(("raw SQLite, 256 tasks per commit", r.RawSqliteTasksPerSecondGrouped, "#4aa564"));
        bars.Add(("raw SQLite, commit every write", r.RawSqliteTasksPerSecondCommitEach, "#8fc99d"));
        bars.RemoveAll(b => double.IsNaN(b.Value));
        const int left = 250, width = 460, barHeight = 26, gap = 10, top = 40;
        var max = Math.Max(StretchTasksPerSecond, bars.Select(b => b.Value).DefaultIfEmpty(1).Max()) * 1.05;
        var height = top + bars.Count * (barHeight + gap) + 40;
        double X(double v) => left + v / max * width;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 90}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">Small tasks per second (end to end) vs the raw limits; {Escape(r.Machine)}</text>");
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value, colour) = bars[i];
            var y = top + i * (barHeight + gap);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{y + 17}\" text-anchor=\"end\">{Escape(label)}</text>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y}\" width=\"{X(value) - left:0.0}\" height=\"{barHeight}\" fill=\"{colour}\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{X(value) + 4:0.0}\" y=\"{y + 17}\">{value:0}</text>");
        }
        var bottom = top + bars.Count * (barHeight + gap);
        foreach (var (target, label) in new[] { (TargetTasksPerSecond, "target 2,000"), (StretchTasksPerSecond, "stretch 5,000") })
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{X(target):0.0}\" y1=\"{top - 6}\" x2=\"{X(target):0.0}\" y2=\"{bottom}\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{X(target):0.0}\" y=\"{bottom + 16}\" text-anchor=\"middle\" fill=\"#c33\">{label}</text>");
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
