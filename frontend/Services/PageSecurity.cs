using Microsoft.AspNetCore.DataProtection;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// Browser-facing protections: headers that forbid framing and foreign content on every response,
/// and one data-protection key ring for all frontend replicas (antiforgery tokens and the
/// TempData cookie issued by one replica are accepted by every other).
/// </summary>
public static class PageSecurity
{
    /// <summary>
    /// Only this site's own scripts, styles and connections; no framing by anyone. The pages have no
    /// inline scripts or styles; <c>data:</c> images cover the empty favicon.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Shares the key ring through <see cref="KeyRingOptions.KeysPath"/> and leaves X-Frame-Options to <see cref="UseSecurityHeaders"/>.</summary>
    public static void AddPageSecurity(this WebApplicationBuilder builder)
    {
        var keyRing = builder.Configuration.GetSection(KeyRingOptions.SectionName).Get<KeyRingOptions>() ?? new KeyRingOptions();
        // The application name, not the install path, decides which protected payloads a replica
        // can read, so every replica (and every restart) must use the same one.
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("CeleryKube.Frontend");
        if (!string.IsNullOrEmpty(keyRing.KeysPath))
        {
            dataProtection.PersistKeysToFileSystem(Directory.CreateDirectory(keyRing.KeysPath));
        }
        // Antiforgery would add SAMEORIGIN on pages with forms only; the header below is DENY everywhere.
        builder.Services.AddAntiforgery(o => o.SuppressXFrameOptionsHeader = true);
    }

    /// <summary>Sends the anti-framing and no-sniffing headers on every response, error pages included.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // OnStarting: the exception handler clears headers before it renders the error page.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            return Task.CompletedTask;
        });
        return next(context);
    });
}

/// <summary>Where the frontend keeps its data-protection keys (<c>DataProtection__*</c>).</summary>
public sealed class KeyRingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "DataProtection";

    /// <summary>
    /// A folder all replicas share (a Kubernetes volume); empty keeps keys in this process only,
    /// which is enough for one replica.
    /// </summary>
    public string? KeysPath { get; set; }
}
