using System.Text.RegularExpressions;

namespace CeleryKube.Testing;

/// <summary>How many results the store applied per task, read from the workers' logs.</summary>
public static partial class AppliedResults
{
    /// <summary>
    /// Task id to the number of results the store took for it, from every worker's log (kept across
    /// restarts): a report the store took ends "(stored state X)", or, on the quick path (claim and
    /// outcome in one FinishTask call), "claimed and recorded in one call", which workers log at
    /// Debug (<see cref="CeleryKubeStack"/> turns it on); a late or duplicate one says so and
    /// changed nothing. More than one per task is a duplicate.
    /// </summary>
    public static Dictionary<string, int> Count(IEnumerable<ServiceProcess> workers)
    {
        var applied = new Dictionary<string, int>();
        foreach (var worker in workers)
        {
            foreach (Match m in AppliedReport().Matches(worker.Output))
            {
                if (m.Groups["late"].Success) continue;
                var id = m.Groups["id"].Value;
                applied[id] = applied.GetValueOrDefault(id) + 1;
            }
        }
        return applied;
    }

    /// <summary>
    /// <see cref="Count"/> once each of <paramref name="taskIds"/> has a result in the logs, or when
    /// <paramref name="timeout"/> has passed: a worker logs a result only after the store recorded
    /// it, so a task read as finished may not be in its worker's log yet.
    /// </summary>
    public static async Task<Dictionary<string, int>> CountOnceLoggedAsync(IReadOnlyCollection<ServiceProcess> workers, IEnumerable<string> taskIds,
        TimeSpan timeout)
    {
        var ids = taskIds.ToList();
        var applied = Count(workers);
        var deadline = DateTime.UtcNow + timeout;
        while (!ids.All(applied.ContainsKey) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            applied = Count(workers);
        }
        return applied;
    }

    [GeneratedRegex(@"task (?<id>[0-9a-f-]{36}) attempt \d+: \w+ in [^\n]*(?:\(stored state \w+(?<late>, report was late or duplicate)?\)|claimed and recorded in one call)")]
    private static partial Regex AppliedReport();
}
