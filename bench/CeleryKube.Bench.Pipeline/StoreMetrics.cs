using System.Globalization;

namespace CeleryKube.Bench.Pipeline;

/// <summary>Reads task-service's /metrics for the store's commit counter.</summary>
public static class StoreMetrics
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>celerykube_store_commits_total, or null when task-service does not export it.</summary>
    public static async Task<double?> CommitsAsync(int metricsPort)
    {
        string text;
        try
        {
            text = await Http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        }
        catch (HttpRequestException)
        {
            return null;
        }
        double? total = null;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("celerykube_store_commits_total", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) total = (total ?? 0) + value;
        }
        return total;
    }
}
