using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CeleryKube.ServiceDefaults;

/// <summary>
/// The host setup every CeleryKube service shares: structured logs, OpenTelemetry metrics (on a
/// Prometheus <c>/metrics</c> endpoint) and traces, gRPC health and reflection, Kestrel ports.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Adds logging, telemetry, health checks and validated <see cref="ListenOptions"/>.</summary>
    public static ListenOptions AddServiceDefaults(this WebApplicationBuilder builder, string serviceName)
    {
        var listen = builder.Services.AddValidatedOptions<ListenOptions>(builder.Configuration, ListenOptions.SectionName);

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.IncludeScopes = false;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m => m
                .AddMeter(Telemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        // Traces leave the process only when an OTLP collector is configured the standard way.
        // Without one nothing listens, so no spans are created at all: every request and every
        // job would otherwise pay for spans that go nowhere.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(t => t
                    .AddSource(Telemetry.Name)
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/metrics"))
                    .AddGrpcClientInstrumentation())
                .UseOtlpExporter();
        }

        builder.Services.AddGrpc(o => o.EnableDetailedErrors = builder.Environment.IsDevelopment());
        builder.Services.AddSingleton<PortScopedReflection>();
        builder.Services.AddGrpcHealthChecks().AddCheck("self", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        return listen;
    }

    /// <summary>Listens for plaintext gRPC (HTTP/2 only, so clients need no TLS or upgrade).</summary>
    public static void ListenGrpc(this WebApplicationBuilder builder, ListenOptions listen, int port) =>
        builder.WebHost.ConfigureKestrel(k => k.Listen(listen.IpAddress, port, o => o.Protocols = HttpProtocols.Http2));

    /// <summary>Listens for HTTP/1.1 (web pages, Prometheus scrapes).</summary>
    public static void ListenHttp1(this WebApplicationBuilder builder, ListenOptions listen, int port) =>
        builder.WebHost.ConfigureKestrel(k => k.Listen(listen.IpAddress, port, o => o.Protocols = HttpProtocols.Http1));

    /// <summary>Maps gRPC health, gRPC reflection (scoped to each port) and the Prometheus <c>/metrics</c> endpoint.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Probes and scrapers carry no user: these stay open even where pages need a sign-in.
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapGrpcService<PortScopedReflection.V1>().AllowAnonymous();
        app.MapGrpcService<PortScopedReflection.V1Alpha>().AllowAnonymous();
        app.MapPrometheusScrapingEndpoint().AllowAnonymous();
        return app;
    }
}
