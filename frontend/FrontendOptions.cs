using System.ComponentModel.DataAnnotations;

namespace CeleryKube.Frontend;

/// <summary>The frontend's settings (<c>Frontend__*</c>, see docs/configuration.md).</summary>
public sealed class FrontendOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Frontend";

    /// <summary>Port of the web pages and <c>/metrics</c> (HTTP/1.1).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 5000;

    /// <summary>Address of the public TaskService (plaintext HTTP/2).</summary>
    [Required, Url]
    public string TaskServiceUrl { get; set; } = "http://127.0.0.1:5001";

    /// <summary>
    /// Largest submit form accepted; larger ones are refused (413) before they are read. The default
    /// fits two texts at TaskService's default limit of 10,000,000 code points of up to 4 UTF-8 bytes each.
    /// </summary>
    [Range(64 * 1024, 1024L * 1024 * 1024)]
    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>
    /// Behind a proxy that ends TLS (an Ingress): take the scheme and host from
    /// <c>X-Forwarded-Proto</c>/<c>X-Forwarded-Host</c>, so sign-in asks the issuer to send people back
    /// over https. Headers are trusted from any peer, so only for a frontend reached through the proxy alone.
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }
}
