using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CeleryKube.ServiceDefaults;

/// <summary>The names under which every CeleryKube process publishes traces and metrics.</summary>
public static class Telemetry
{
    /// <summary>Name of the activity source and the meter.</summary>
    public const string Name = "CeleryKube";

    /// <summary>Spans for publishing, consuming and running jobs.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    /// <summary>The meter for all CeleryKube instruments (exported on <c>/metrics</c>).</summary>
    public static readonly Meter Meter = new(Name);
}
