using System.Diagnostics;

namespace CeleryKube.Lcs;

/// <summary>Wall and process CPU time of each phase of one suffix-array call, for the benchmark.</summary>
internal sealed class PhaseTimes
{
    private readonly List<(string Name, TimeSpan Wall, TimeSpan Cpu)> _phases = [];
    private long _lastWall = Stopwatch.GetTimestamp();
    private TimeSpan _lastCpu = Environment.CpuUsage.TotalTime;

    public IReadOnlyList<(string Name, TimeSpan Wall, TimeSpan Cpu)> Phases => _phases;

    /// <summary>Ends the phase called <paramref name="name"/> now; the next phase starts here.</summary>
    public void Lap(string name)
    {
        long wall = Stopwatch.GetTimestamp();
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        _phases.Add((name, Stopwatch.GetElapsedTime(_lastWall, wall), cpu - _lastCpu));
        _lastWall = wall;
        _lastCpu = cpu;
    }
}
