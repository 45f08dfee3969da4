using System.Globalization;

namespace CeleryKube.Testing;

/// <summary>What /proc says about a process: memory, and which one is the private RabbitMQ node.</summary>
public static class ProcStatus
{
    /// <summary>Resident set size of <paramref name="pid"/> in MiB (VmRSS), or 0 if it is gone.</summary>
    public static double RssMiB(int pid) => StatusMiB(pid, "VmRSS:");

    /// <summary>The largest resident set size <paramref name="pid"/> had so far in MiB (VmHWM), or 0 if it is gone.</summary>
    public static double PeakRssMiB(int pid) => StatusMiB(pid, "VmHWM:");

    private static double StatusMiB(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
                var kb = long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return 0;
    }

    /// <summary>
    /// True while <paramref name="pid"/> runs. An exited process whose parent never reaps it (here
    /// that can be PID 1) stays in /proc as a zombie (State Z): that counts as gone.
    /// </summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal)) is { } state
                && !state.Contains('Z');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// The Erlang VM (beam.smp) of the node scripts/rabbitmq started on <paramref name="amqpPort"/>, or 0.
    /// Its command line does not name the node; its environment does (RABBITMQ_NODE_PORT).
    /// </summary>
    public static int FindRabbitPid(int amqpPort)
    {
        var marker = $"RABBITMQ_NODE_PORT={amqpPort}\0";
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (!File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("beam.smp", StringComparison.Ordinal)) continue;
                if (File.ReadAllText(Path.Combine(dir, "environ")).Contains(marker, StringComparison.Ordinal)) return pid;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        return 0;
    }
}
