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
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck("self", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        return listen;
    }

    /// <summary>Listens for plaintext gRPC (HTTP/2 only, so clients need no TLS or upgrade).</summary>
    public static void ListenGrpc(this WebApplicationBuilder builder, ListenOptions listen, int port) =>
        builder.WebHost.ConfigureKestrel(k => k.Listen(listen.IpAddress, port, o => o.Protocols = HttpProtocols.Http2));

    /// <summary>Listens for HTTP/1.1 (web pages, Prometheus scrapes).</summary>
    public static void ListenHttp1(this WebApplicationBuilder builder, ListenOptions listen, int port) =>
        builder.WebHost.ConfigureKestrel(k => k.Listen(listen.IpAddress, port, o => o.Protocols = HttpProtocols.Http1));

    /// <summary>Maps gRPC health, gRPC reflection and the Prometheus <c>/metrics</c> endpoint.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }
}
