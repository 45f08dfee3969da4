using CeleryKube.ServiceDefaults;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using CeleryKube.TaskService.Options;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// Authentication and authorization of the public TaskService (gRPC and its JSON form): JWT
/// bearer tokens from an OpenID Connect issuer, or API keys; the operator role for destructive
/// calls. With <see cref="AuthOptions.Enabled"/> off, both policies admit everyone.
/// </summary>
public static class ApiAuthentication
{
    /// <summary>Policy of cancel, delete and retry: the operator role.</summary>
    public const string OperatorPolicy = "operator";

    /// <summary>The header API keys travel in.</summary>
    public const string ApiKeyHeader = "x-api-key";

    private const string JwtOrApiKey = "jwt-or-api-key";
    private const string ApiKeyScheme = "api-key";

    /// <summary>Registers the schemes and policies <paramref name="auth"/> asks for.</summary>
    public static IServiceCollection AddApiAuthentication(this IServiceCollection services, AuthOptions auth)
    {
        if (!auth.Enabled)
        {
            services.AddAuthentication();
            services.AddAuthorizationBuilder()
                .SetDefaultPolicy(AllowEveryone())
                .AddPolicy(OperatorPolicy, AllowEveryone());
            return services;
        }

        var authentication = services.AddAuthentication(JwtOrApiKey)
            .AddPolicyScheme(JwtOrApiKey, "Bearer token or API key", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.ContainsKey(ApiKeyHeader) ? ApiKeyScheme : JwtBearerDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyScheme, null);
        authentication.AddJwtBearer(o =>
        {
            o.Authority = auth.Authority;
            o.Audience = auth.Audience;
            o.RequireHttpsMetadata = auth.RequireHttpsMetadata;
            // Keep claim names as the issuer wrote them, so Auth__RoleClaim means what the token says.
            o.MapInboundClaims = false;
            o.TokenValidationParameters.RoleClaimType = auth.RoleClaim;
            o.TokenValidationParameters.NameClaimType = "sub";
            // An issuer that is not configured can never validate a token; API keys still work.
            if (auth.Authority is null) o.Events = new JwtBearerEvents { OnMessageReceived = c => { c.NoResult(); return Task.CompletedTask; } };
        });
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder(JwtOrApiKey).RequireAuthenticatedUser().Build())
            .AddPolicy(OperatorPolicy, p => p.AddAuthenticationSchemes(JwtOrApiKey).RequireRole(auth.OperatorRole));
        return services;
    }

    private static AuthorizationPolicy AllowEveryone() => new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build();

    /// <summary>Admits a caller whose <c>x-api-key</c> equals a configured key (compared in constant time).</summary>
    private sealed class ApiKeyHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> options,
        ILoggerFactory logger,
        UrlEncoder encoder,
        IOptions<AuthOptions> auth) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var presented = Hash(Request.Headers[ApiKeyHeader].ToString());
            // Every key is compared, so the time taken says nothing about which one came close.
            ApiKeyOptions? match = null;
            foreach (var key in auth.Value.ApiKeys)
            {
                if (CryptographicOperations.FixedTimeEquals(presented, Hash(key.Key ?? ""))) match = key;
            }
            if (match is null) return Task.FromResult(AuthenticateResult.Fail($"the {ApiKeyHeader} header holds no configured API key"));
            var claims = new List<Claim> { new("sub", match.Name) };
            if (match.Operator) claims.Add(new Claim(auth.Value.RoleClaim, auth.Value.OperatorRole));
            var identity = new ClaimsIdentity(claims, ApiKeyScheme, "sub", auth.Value.RoleClaim);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeyScheme)));
        }

        // Equal-length inputs for the constant-time comparison, whatever the key lengths.
        private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }
}
