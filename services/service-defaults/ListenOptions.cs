using System.ComponentModel.DataAnnotations;
using System.Net;

namespace CeleryKube.ServiceDefaults;

/// <summary>Where every CeleryKube service listens (<c>Listen__*</c>).</summary>
public sealed class ListenOptions
{
    public const string SectionName = "Listen";

    /// <summary>
    /// The address every port binds to. Loopback by default so a laptop run is not exposed;
    /// containers set <c>0.0.0.0</c>.
    /// </summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The parsed <see cref="Address"/>.</summary>
    public IPAddress IpAddress => IPAddress.Parse(Address);
}
