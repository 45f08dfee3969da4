using System.ComponentModel.DataAnnotations;

namespace CeleryKube.ServiceDefaults;

/// <summary>
/// Who may use CeleryKube (<c>Auth__*</c>), one section for task-service and the frontend so
/// the two agree on the issuer, the role claim and the operator role. Off by default, for a
/// laptop run on loopback; on in the production overlay. When on, the public TaskService needs an
/// OpenID Connect access token (JWT bearer) or an API key, the web UI signs people in through the
/// same issuer (and calls TaskService with their token), and cancel, delete and retry need the
/// operator role.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string SectionName = "Auth";

    /// <summary>Require a token or API key on the public API.</summary>
    public bool Enabled { get; set; }

    /// <summary>The OpenID Connect issuer whose signing keys validate bearer tokens (its discovery document is read).</summary>
    public string? Authority { get; set; }

    /// <summary>The audience bearer tokens must be issued for.</summary>
    public string Audience { get; set; } = "celerykube";

    /// <summary>Refuse an issuer reached over plain HTTP; only tests and local issuers turn this off.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The token claim that carries roles (<c>roles</c> for Entra ID and most issuers' role mappers).</summary>
    [Required]
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The role that may cancel, delete and retry tasks.</summary>
    [Required]
    public string OperatorRole { get; set; } = "celerykube-operator";

    /// <summary>The frontend's client id at the issuer (web sign-in).</summary>
    public string? ClientId { get; set; }

    /// <summary>The frontend's client secret at the issuer (web sign-in; from a Secret).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>task-service only: keys for command-line users and scripts, presented as the <c>x-api-key</c> header.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Enabled && string.IsNullOrWhiteSpace(Authority) && ApiKeys.Count == 0)
            yield return new ValidationResult("set an issuer (Auth__Authority) or at least one API key (Auth__ApiKeys__0__Key) when Auth__Enabled is true", [nameof(Authority)]);
        if (Authority is not null && !Uri.TryCreate(Authority, UriKind.Absolute, out _))
            yield return new ValidationResult($"'{Authority}' is not an absolute URL", [nameof(Authority)]);
        for (var i = 0; i < ApiKeys.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(ApiKeys[i].Name))
                yield return new ValidationResult("every API key needs a name (it is the caller's identity in logs)", [$"{nameof(ApiKeys)}__{i}__{nameof(ApiKeyOptions.Name)}"]);
            if ((ApiKeys[i].Key?.Length ?? 0) < ApiKeyOptions.MinKeyLength)
                yield return new ValidationResult($"an API key must be at least {ApiKeyOptions.MinKeyLength} characters (e.g. openssl rand -hex 32)", [$"{nameof(ApiKeys)}__{i}__{nameof(ApiKeyOptions.Key)}"]);
        }
    }
}

/// <summary>One API key (<c>Auth__ApiKeys__N__*</c>).</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Short enough to guess is short enough to brute-force.</summary>
    public const int MinKeyLength = 32;

    /// <summary>Who holds the key; the caller's name in logs.</summary>
    public string Name { get; set; } = "";

    /// <summary>The secret itself.</summary>
    public string? Key { get; set; }

    /// <summary>Whether the key may cancel, delete and retry tasks.</summary>
    public bool Operator { get; set; }
}
