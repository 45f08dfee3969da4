using System.Globalization;

namespace CeleryKube.Testing;

/// <summary>
/// CPU time of a process from /proc, so each phase can say how many CPU milliseconds
/// every task cost in each process (the profile that names the bottleneck).
/// </summary>
public static class ProcessCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ; 100 on every Linux we run on.

    /// <summary>
    /// utime + stime of <paramref name="pid"/> in milliseconds (with <paramref name="waitedChildren"/>,
    /// plus the children it has reaped), or 0 if it is gone.
    /// </summary>
    public static double CpuMilliseconds(int pid, bool waitedChildren = false)
    {
        if (StatFields(pid) is not { } fields) return 0;
        var ticks = Field(fields, 11) + Field(fields, 12);
        if (waitedChildren) ticks += Field(fields, 13) + Field(fields, 14);
        return ticks * 1000.0 / TicksPerSecond;
    }

    /// <summary>The parent's pid, or -1 if the process is gone.</summary>
    public static int ParentOf(int pid) => StatFields(pid) is { } fields ? (int)Field(fields, 1) : -1;

    /// <summary>
    /// A server that forks a process per client (PostgreSQL's postmaster): its own CPU, its reaped
    /// children's and its live children's.
    /// </summary>
    public static double ProcessTreeCpuMilliseconds(int parent)
    {
        var total = CpuMilliseconds(parent, waitedChildren: true);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != parent && ParentOf(pid) == parent) total += CpuMilliseconds(pid);
        }
        return total;
    }

    private static long Field(string[] fields, int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces: split after the last ')'.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
