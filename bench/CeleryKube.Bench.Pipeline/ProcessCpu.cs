using System.Globalization;

namespace CeleryKube.Bench.Pipeline;

/// <summary>
/// CPU time of a process from /proc, so each phase can say how many CPU milliseconds
/// every task cost in each process (the profile that names the bottleneck).
/// </summary>
public static class ProcessCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ; 100 on every Linux we run on.

    /// <summary>utime + stime of <paramref name="pid"/> in milliseconds, or 0 if it is gone.</summary>
    public static double CpuMilliseconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces: split after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) * 1000.0 / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }
}
