using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace CeleryKube.Messaging;

/// <summary>How task-service and workers reach RabbitMQ (<c>RabbitMq__*</c>).</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    public const string SectionName = "RabbitMq";

    /// <summary>AMQP URI with credentials and virtual host.</summary>
    [Required]
    [RegularExpression("^amqps?://.+", ErrorMessage = "must be an amqp:// or amqps:// URI, e.g. amqp://user:password@host:5672/")]
    public string Uri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>
    /// The nodes of a RabbitMQ cluster as comma-separated <c>host:port</c> (e.g.
    /// <c>rabbit-0:5672,rabbit-1:5672,rabbit-2:5672</c>). When set, connections go to one of them
    /// (in random order) and recover to another when that node goes away; credentials, virtual host
    /// and TLS still come from <see cref="Uri"/>, whose host is then unused. Unset or empty: <see cref="Uri"/>'s host.
    /// </summary>
    public string? Endpoints { get; set; }

    /// <summary>The parsed <see cref="Endpoints"/>; empty when unset. Call after validation.</summary>
    public IReadOnlyList<(string Host, int Port)> EndpointList =>
        [.. SplitEndpoints().Select(e => TryParseEndpoint(e, out var host, out var port) ? (host, port) : throw new FormatException(EndpointError(e)))];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Endpoints)) yield break; // an empty variable means "not set"
        var entries = SplitEndpoints();
        if (entries.Count == 0) yield return new ValidationResult(EndpointError(Endpoints), [nameof(Endpoints)]);
        foreach (var entry in entries.Where(e => !TryParseEndpoint(e, out _, out _)))
        {
            yield return new ValidationResult(EndpointError(entry), [nameof(Endpoints)]);
        }
    }

    /// <summary>The URI with the password removed, for logs and reports.</summary>
    public string RedactedUri
    {
        get
        {
            if (!System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri)) return "(invalid)";
            var user = uri.UserInfo.Split(':')[0];
            var auth = user.Length > 0 ? $"{user}:***@" : "";
            return $"{uri.Scheme}://{auth}{uri.Host}:{uri.Port}{uri.AbsolutePath}";
        }
    }

    /// <summary>The broker as shown in logs: the redacted URI, and the cluster nodes when set.</summary>
    public string RedactedBroker => SplitEndpoints().Count == 0 ? RedactedUri : $"{RedactedUri} (nodes {string.Join(',', SplitEndpoints())})";

    private List<string> SplitEndpoints() =>
        [.. (Endpoints ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private static string EndpointError(string entry) =>
        $"must be comma-separated host:port pairs with ports 1-65535, e.g. rabbit-0:5672,rabbit-1:5672; '{entry}' is not";

    /// <summary><c>host:port</c> or <c>[ipv6]:port</c>.</summary>
    private static bool TryParseEndpoint(string entry, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = entry.LastIndexOf(':');
        if (colon <= 0) return false;
        host = entry[..colon].Trim('[', ']');
        return host.Length > 0 && !host.Contains(' ', StringComparison.Ordinal)
            && int.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
    }
}
