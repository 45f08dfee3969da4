using CeleryKube.ServiceDefaults;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// Sign-in for the web UI with <c>Auth__Enabled</c>: every page needs a person signed in through
/// the OpenID Connect issuer (cookie session, authorization-code flow with PKCE), and TaskService is
/// called with that person's access token, so task-service decides what they may do. Off, every
/// page is open, as on a laptop.
/// </summary>
public static class WebSignIn
{
    /// <summary>Registers cookie + OpenID Connect authentication when <paramref name="auth"/> is on.</summary>
    public static void AddWebSignIn(this WebApplicationBuilder builder, AuthOptions auth)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<AccessTokenInterceptor>();
        if (!auth.Enabled)
        {
            builder.Services.AddAuthentication();
            builder.Services.AddAuthorization();
            return;
        }
        if (string.IsNullOrWhiteSpace(auth.Authority) || string.IsNullOrWhiteSpace(auth.ClientId))
            throw new OptionsValidationException(AuthOptions.SectionName, typeof(AuthOptions),
                ["Auth__Authority and Auth__ClientId are required for web sign-in when Auth__Enabled is true"]);

        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(o => o.Cookie.Name = "celerykube-session")
            .AddOpenIdConnect(o =>
            {
                o.Authority = auth.Authority;
                o.ClientId = auth.ClientId;
                o.ClientSecret = auth.ClientSecret;
                o.RequireHttpsMetadata = auth.RequireHttpsMetadata;
                o.ResponseType = "code";
                o.UsePkce = true;
                // The issuer redirects back with a GET, so the Lax correlation cookies travel with it.
                o.ResponseMode = "query";
                o.SaveTokens = true;
                o.UseTokenLifetime = true;
                o.MapInboundClaims = false;
                o.TokenValidationParameters.NameClaimType = "name";
                o.TokenValidationParameters.RoleClaimType = auth.RoleClaim;
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
            });
        builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
    }

    /// <summary>Ends the person's session here (the issuer's own session is the issuer's business).</summary>
    public static void MapSignOut(this WebApplication app) =>
        app.MapPost("/sign-out", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/signed-out");
        });

    /// <summary>Whether the person may cancel and delete: always when sign-in is off.</summary>
    public static bool IsOperator(this HttpContext http)
    {
        var auth = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
        return !auth.Enabled || http.User.IsInRole(auth.OperatorRole);
    }

    /// <summary>
    /// Adds the signed-in person's access token to every TaskService call made while serving
    /// their request (pages and the event stream alike).
    /// </summary>
    public sealed class AccessTokenInterceptor(IHttpContextAccessor http, IOptions<AuthOptions> auth) : Interceptor
    {
        private ClientInterceptorContext<TRequest, TResponse> WithToken<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
            where TRequest : class where TResponse : class
        {
            // With sign-in off there is no authentication scheme to ask, and no token to pass on.
            if (!auth.Value.Enabled) return context;
            var token = http.HttpContext?.GetTokenAsync("access_token").GetAwaiter().GetResult();
            if (string.IsNullOrEmpty(token)) return context;
            var headers = context.Options.Headers ?? [];
            headers.Add("authorization", $"Bearer {token}");
            return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
        }

        /// <inheritdoc />
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
            ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, WithToken(context));

        /// <inheritdoc />
        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request,
            ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, WithToken(context));
    }
}
