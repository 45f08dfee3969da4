using System.Text.Json.Serialization;

namespace CeleryKube.Bench.Pipeline;

/// <summary>CPU milliseconds one task cost in each process during a phase.</summary>
public sealed record CpuPerTask(string Process, double Milliseconds);

/// <summary>A small-task throughput run with a given number of workers, and its CPU profile.</summary>
public sealed record ThroughputRow(int Workers, int Tasks, double TasksPerSecond, double SubmitsPerSecond, double Seconds,
    IReadOnlyList<CpuPerTask> CpuPerTask, double? StoreCommitsPerTask, int Clients)
{
    /// <summary>CPU milliseconds per task summed over all measured processes.</summary>
    [JsonIgnore]
    public double TotalCpuMsPerTask => CpuPerTask.Sum(c => c.Milliseconds);
}

/// <summary>Large tasks with 1 and 2 large workers.</summary>
public sealed record ScalingRow(string Kind, int Tasks, int TextLength, double SecondsWithOneWorker, double SecondsWithTwoWorkers)
{
    /// <summary>How much faster two workers finished the same tasks.</summary>
    public double Speedup => SecondsWithOneWorker / SecondsWithTwoWorkers;
}

/// <summary>Everything one run measured; written as JSON next to the chart.</summary>
public sealed record BenchResults
{
    public required string Date { get; init; }
    public required string Machine { get; init; }
    public required string Mode { get; init; }
    public required string LoadAverageAtStart { get; init; }
    public double SubmitP50Ms { get; set; } = double.NaN;
    public double SubmitP99Ms { get; set; } = double.NaN;
    public int SubmitSamples { get; set; }
    public double EndToEndP50Ms { get; set; } = double.NaN;
    public double EndToEndP99Ms { get; set; } = double.NaN;
    public int EndToEndSamples { get; set; }
    public List<ThroughputRow> Throughput { get; } = [];
    public List<ScalingRow> Scaling { get; } = [];
    public double RawRabbitMqMessagesPerSecond { get; set; } = double.NaN;
    public double RawSqliteTasksPerSecondGrouped { get; set; } = double.NaN;
    public double RawSqliteTasksPerSecondCommitEach { get; set; } = double.NaN;
    public List<string> Notes { get; } = [];
}
