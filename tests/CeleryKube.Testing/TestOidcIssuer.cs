using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CeleryKube.Testing;

/// <summary>
/// A real OpenID Connect issuer on a free loopback port, with a signing key the test owns: a
/// discovery document, its JWKS, and the authorization-code flow with a user the test picks
/// (<see cref="SignInAs"/>). Services validate its tokens exactly as they would a real
/// identity provider's; nothing in them knows it is a test.
/// </summary>
public sealed class TestOidcIssuer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly SigningCredentials signing;
    private readonly ConcurrentDictionary<string, (string ClientId, string? Nonce, string Subject, string[] Roles)> codes = new();
    private (string Subject, string[] Roles) nextUser = ("alice", []);

    private TestOidcIssuer(WebApplication app, RSA key)
    {
        this.app = app;
        signing = new SigningCredentials(new RsaSecurityKey(key) { KeyId = "test-signing-key" }, SecurityAlgorithms.RsaSha256);
        Url = "";
    }

    /// <summary>The issuer URL (<c>Auth__Authority</c>).</summary>
    public string Url { get; private set; }

    /// <summary>The audience its access tokens are issued for.</summary>
    public const string ApiAudience = "celerykube";

    /// <summary>Starts the issuer on a free loopback port.</summary>
    public static async Task<TestOidcIssuer> StartAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var issuer = new TestOidcIssuer(builder.Build(), RSA.Create(2048)) { Url = $"http://127.0.0.1:{port}" };
        issuer.Map();
        await issuer.app.StartAsync();
        return issuer;
    }

    /// <summary>The person the next browser sign-in authenticates as.</summary>
    public void SignInAs(string subject, params string[] roles) => nextUser = (subject, roles);

    /// <summary>An access token for the API, as a client-credentials or CLI flow would get one.</summary>
    public string IssueAccessToken(string subject, IEnumerable<string> roles, string audience = ApiAudience, TimeSpan? expiresIn = null) =>
        Token(subject, roles, audience, null, expiresIn ?? TimeSpan.FromMinutes(30), signing);

    /// <summary>A token of the right shape signed by a key this issuer never published.</summary>
    public string IssueForgedToken(string subject, IEnumerable<string> roles) =>
        Token(subject, roles, ApiAudience, null, TimeSpan.FromMinutes(30),
            new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-signing-key" }, SecurityAlgorithms.RsaSha256));

    private string Token(string subject, IEnumerable<string> roles, string audience, string? nonce, TimeSpan expiresIn, SigningCredentials credentials)
    {
        var now = DateTime.UtcNow;
        var expires = now + expiresIn;
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["name"] = subject, ["roles"] = roles.ToArray() };
        if (nonce is not null) claims["nonce"] = nonce;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Url,
            Audience = audience,
            Claims = claims,
            IssuedAt = expires < now ? expires.AddHours(-1) : now,
            NotBefore = expires < now ? expires.AddHours(-1) : now,
            Expires = expires,
            SigningCredentials = credentials,
        });
    }

    private void Map()
    {
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Url,
            ["jwks_uri"] = $"{Url}/jwks",
            ["authorization_endpoint"] = $"{Url}/authorize",
            ["token_endpoint"] = $"{Url}/token",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/jwks", () =>
        {
            var key = (RsaSecurityKey)signing.Key;
            var parameters = key.Rsa.ExportParameters(false);
            return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = key.KeyId,
                n = Base64UrlEncoder.Encode(parameters.Modulus), e = Base64UrlEncoder.Encode(parameters.Exponent) } } });
        });
        // The user "signs in" at once: the test chose who they are with SignInAs.
        app.MapGet("/authorize", (HttpContext http) =>
        {
            var q = http.Request.Query;
            var code = Guid.NewGuid().ToString("N");
            codes[code] = (q["client_id"].ToString(), q["nonce"].ToString() is { Length: > 0 } n ? n : null, nextUser.Subject, nextUser.Roles);
            var separator = q["redirect_uri"].ToString().Contains('?') ? '&' : '?';
            return Results.Redirect($"{q["redirect_uri"]}{separator}code={code}&state={Uri.EscapeDataString(q["state"].ToString())}");
        });
        app.MapPost("/token", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            if (!codes.TryRemove(form["code"].ToString(), out var grant)) return Results.BadRequest(new { error = "invalid_grant" });
            return Results.Json(new
            {
                id_token = Token(grant.Subject, grant.Roles, grant.ClientId, grant.Nonce, TimeSpan.FromMinutes(30), signing),
                access_token = Token(grant.Subject, grant.Roles, ApiAudience, null, TimeSpan.FromMinutes(30), signing),
                token_type = "Bearer",
                expires_in = 1800,
            });
        });
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
