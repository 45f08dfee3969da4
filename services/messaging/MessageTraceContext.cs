using System.Diagnostics;
using System.Text;

namespace CeleryKube.Messaging;

/// <summary>Carries W3C trace context in AMQP message headers (<c>traceparent</c>, <c>tracestate</c>).</summary>
public static class MessageTraceContext
{
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    /// <summary>Writes the current activity's context into <paramref name="headers"/>.</summary>
    public static void Inject(Activity? activity, IDictionary<string, object?> headers)
    {
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || activity.Id is null) return;
        headers[TraceParent] = activity.Id;
        if (!string.IsNullOrEmpty(activity.TraceStateString)) headers[TraceState] = activity.TraceStateString;
    }

    /// <summary>Reads the parent context a publisher wrote, or default when there is none.</summary>
    public static ActivityContext Extract(IDictionary<string, object?>? headers)
    {
        var parent = HeaderText(headers, TraceParent);
        if (parent is null) return default;
        return ActivityContext.TryParse(parent, HeaderText(headers, TraceState), isRemote: true, out var context) ? context : default;
    }

    /// <summary>AMQP delivers string headers as byte arrays; accept both.</summary>
    public static string? HeaderText(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string text => text,
            _ => value?.ToString(),
        } : null;
}
