using System.Globalization;

namespace CeleryKube.Bench.Lcs;

/// <summary>How the tables print sizes, times and ratios.</summary>
internal static class Format
{
    public static string Size(int chars) => chars >= 1_000_000 ? $"{chars / 1_000_000} M" : $"{chars / 1_000} K";

    public static string Time(double seconds) => seconds switch
    {
        double.NaN => "-",
        < 1e-3 => $"{seconds * 1e6:F1} µs",
        < 1 => $"{seconds * 1e3:F1} ms",
        _ => $"{seconds:F2} s",
    };

    public static string Ratio(double ratio) => double.IsNaN(ratio) ? "-" : ratio.ToString("F2", CultureInfo.InvariantCulture) + "x";

    public static string Number(double value) => double.IsNaN(value) ? "-" : value.ToString("F1", CultureInfo.InvariantCulture);

    public static string Bytes(long bytes) => bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):F1} MiB" : $"{bytes / 1024.0:F1} KiB";

    public static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
