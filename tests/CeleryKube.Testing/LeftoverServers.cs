using System.Globalization;

namespace CeleryKube.Testing;

/// <summary>
/// Servers that outlive a test (a PostgreSQL cluster, RabbitMQ nodes) keep their state in a folder
/// that names the test process owning them. The exit hook stops them normally; when a test host
/// was killed (no exit hook runs), the next run of the same kind finds the folder, sees that its
/// owner is gone, and stops what was left behind before starting its own.
/// </summary>
public static class LeftoverServers
{
    private const string OwnerFile = "owner";

    /// <summary>A fresh private folder for <paramref name="purpose"/>, marked as owned by this process.</summary>
    public static string NewOwnedFolder(string purpose)
    {
        var folder = RepoPaths.NewTempFolder(purpose);
        File.WriteAllText(Path.Combine(folder, OwnerFile), OwnerMark(Environment.ProcessId) ?? "");
        return folder;
    }

    /// <summary>
    /// Calls <paramref name="stop"/> on every folder of <paramref name="purpose"/> whose owning
    /// process has exited (or been replaced by another with the same id), then deletes the folder.
    /// </summary>
    public static async Task StopOrphansAsync(string purpose, Func<string, Task> stop)
    {
        var parent = RepoPaths.TempRoot;
        if (!Directory.Exists(parent)) return;
        foreach (var folder in Directory.EnumerateDirectories(parent, purpose + "-*"))
        {
            var owner = Path.Combine(folder, OwnerFile);
            if (!File.Exists(owner)) continue;
            var mark = File.ReadAllText(owner);
            var pid = int.TryParse(mark.Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
            if (pid > 0 && OwnerMark(pid) == mark) continue; // its owner still runs
            try
            {
                await stop(folder);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                // Best effort: a half-created folder may hold nothing to stop.
            }
            RepoPaths.DeleteTempFolder(folder);
        }
    }

    /// <summary>Marks <paramref name="folder"/> as left behind by a process that no longer runs, as a killed test host would.</summary>
    public static void MarkOrphaned(string folder) => File.WriteAllText(Path.Combine(folder, OwnerFile), $"{int.MaxValue} 0");

    /// <summary>
    /// "pid starttime" of a running process, or null when it is gone: the start time (field 22 of
    /// /proc/pid/stat) tells a reused pid apart, and a zombie (state Z) has exited too.
    /// </summary>
    private static string? OwnerMark(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" ? null : $"{pid} {fields[19]}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
