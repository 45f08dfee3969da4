using Microsoft.AspNetCore.HttpOverrides;
using CeleryKube.Frontend;
using CeleryKube.Frontend.Services;
using CeleryKube.ServiceDefaults;

return await ConfigurationGuard.RunAsync("frontend", async () =>
{
    // Content root is the build output, where wwwroot is copied, so the pages look the same however
    // the process is started (dotnet run, a test fixture's working folder, a container).
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    var listen = builder.AddServiceDefaults("frontend");
    var options = builder.Services.AddValidatedOptions<FrontendOptions>(builder.Configuration, FrontendOptions.SectionName);
    builder.ListenHttp1(listen, options.Port);
    builder.AllowLargeUploads(options);
    builder.AddPageSecurity();
    builder.AddWebSignIn(builder.Services.AddValidatedOptions<AuthOptions>(builder.Configuration, AuthOptions.SectionName));
    builder.Services.AddTaskServiceClient(options);
    builder.Services.AddRazorPages();

    var app = builder.Build();
    if (options.TrustForwardedHeaders) app.UseForwardedHeaders(ForwardedFromAnyProxy());
    app.UseSecurityHeaders();
    app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandlingPath = "/Error", StatusCodeSelector = PageProblem.HttpStatus });
    app.UseStatusCodePagesWithReExecute("/Error");
    app.UseStaticFiles();
    // The post guard checks antiforgery tokens, which are bound to the signed-in person: authenticate first.
    app.UseAuthentication();
    app.UseMiddleware<PostGuard>();
    app.UseRouting();
    app.UseAuthorization();
    app.MapRazorPages();
    app.MapTaskEvents();
    app.MapSignOut();
    app.MapHealthChecks("/healthz").AllowAnonymous();
    app.MapDefaultEndpoints();
    await app.RunAsync();
    return 0;
});

static ForwardedHeadersOptions ForwardedFromAnyProxy()
{
    var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost };
    // The proxy's address is not known in advance (an Ingress controller's pods come and go).
    forwarded.KnownIPNetworks.Clear();
    forwarded.KnownProxies.Clear();
    return forwarded;
}
