using System.ComponentModel.DataAnnotations;

namespace CeleryKube.Messaging;

/// <summary>How task-service and workers reach RabbitMQ (<c>RabbitMq__*</c>).</summary>
public sealed class RabbitMqOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "RabbitMq";

    /// <summary>AMQP URI with credentials and virtual host.</summary>
    [Required]
    [RegularExpression("^amqps?://.+", ErrorMessage = "must be an amqp:// or amqps:// URI, e.g. amqp://user:password@host:5672/")]
    public string Uri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>
    /// Deliveries of one job message before the broker dead-letters it into <c>lcs.dead</c>
    /// (the quorum queues' <c>x-delivery-limit</c>; both sides must agree, so there is one setting).
    /// </summary>
    [Range(1, 100)]
    public int DeliveryLimit { get; set; } = 5;

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
}
