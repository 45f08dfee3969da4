using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;
using CeleryKube.Protos.V1;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// The cluster page's chart: tasks finished per 10-second window, one line per queue, laid out
/// as SVG coordinates on the server (no charting script needed).
/// </summary>
public sealed class ThroughputChart
{
    /// <summary>Width of the bucket the service reports.</summary>
    public static readonly TimeSpan BucketWidth = TimeSpan.FromSeconds(10);

    /// <summary>SVG user-space size.</summary>
    public const double Width = 720, Height = 220;

    /// <summary>Room for the axes' labels.</summary>
    public const double Left = 40, Right = 12, Top = 12, Bottom = 28;

    /// <summary>One line of the chart.</summary>
    /// <param name="Queue">The queue it shows.</param>
    /// <param name="Points">The SVG <c>points</c> attribute.</param>
    /// <param name="Total">Tasks finished on this queue in the whole window.</param>
    public sealed record Series(TaskQueue Queue, string Points, int Total);

    /// <summary>A horizontal grid line with its label.</summary>
    /// <param name="Y">SVG y.</param>
    /// <param name="Label">The value.</param>
    public sealed record Tick(double Y, string Label);

    /// <summary>The lines, small queue first.</summary>
    public IReadOnlyList<Series> Lines { get; }

    /// <summary>Grid lines on the count axis.</summary>
    public IReadOnlyList<Tick> Ticks { get; }

    /// <summary>Label at the left end of the time axis, e.g. <c>-10 min</c>.</summary>
    public string StartLabel { get; }

    /// <summary>Highest count in any bucket.</summary>
    public int Max { get; }

    /// <summary>Lays out <paramref name="buckets"/> over the <paramref name="history"/> ending at <paramref name="now"/>.</summary>
    public ThroughputChart(IEnumerable<ThroughputBucket> buckets, DateTimeOffset now, TimeSpan history)
    {
        var count = (int)Math.Ceiling(history / BucketWidth);
        var lastStart = Floor(now);
        var firstStart = lastStart - BucketWidth * (count - 1);
        var byQueue = new Dictionary<TaskQueue, int[]> { [TaskQueue.Small] = new int[count], [TaskQueue.Large] = new int[count] };
        foreach (var bucket in buckets)
        {
            var index = (int)Math.Round((Floor(bucket.StartTime.ToDateTimeOffset()) - firstStart) / BucketWidth);
            if (index >= 0 && index < count && byQueue.TryGetValue(bucket.Queue, out var values))
            {
                values[index] += bucket.Succeeded + bucket.Failed;
            }
        }

        Max = byQueue.Values.SelectMany(v => v).DefaultIfEmpty(0).Max();
        var scaleMax = NiceCeiling(Math.Max(Max, 4));
        double X(int i) => Left + (Width - Left - Right) * i / Math.Max(1, count - 1);
        double Y(int v) => Top + (Height - Top - Bottom) * (1 - (double)v / scaleMax);

        Lines = byQueue.Select(kv => new Series(kv.Key,
            string.Join(' ', kv.Value.Select((v, i) => F(X(i)) + "," + F(Y(v)))), kv.Value.Sum())).ToList();
        Ticks = Enumerable.Range(0, 5).Select(k => scaleMax * k / 4).Select(v => new Tick(Y(v), v.ToString(CultureInfo.InvariantCulture))).ToList();
        StartLabel = $"-{(int)history.TotalMinutes} min";
    }

    /// <summary>
    /// An SVG axis label. Written from C# because Razor reserves the <c>&lt;text&gt;</c> tag for itself.
    /// </summary>
    public static IHtmlContent Label(double x, double y, string anchor, string text) =>
        new HtmlString($"<text class=\"axis\" x=\"{F(x)}\" y=\"{F(y)}\" text-anchor=\"{anchor}\">{HtmlEncoder.Default.Encode(text)}</text>");

    /// <summary>Formats an SVG coordinate.</summary>
    public static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static DateTimeOffset Floor(DateTimeOffset time) =>
        new(time.UtcTicks - time.UtcTicks % BucketWidth.Ticks, TimeSpan.Zero);

    /// <summary>The smallest 4 x (1, 2 or 5 x 10^k) at or above <paramref name="value"/>, so four ticks get round labels.</summary>
    private static int NiceCeiling(int value)
    {
        for (var scale = 1; ; scale *= 10)
        {
            foreach (var mantissa in (int[])[1, 2, 5])
            {
                if (mantissa * scale * 4 >= value)
                {
                    return mantissa * scale * 4;
                }
            }
        }
    }
}
