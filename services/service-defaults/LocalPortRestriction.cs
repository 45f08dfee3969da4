using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CeleryKube.ServiceDefaults;

/// <summary>
/// Keeps endpoints on the ports they belong to (e.g. the internal ResultSink off the public port).
/// Matching on the local port, not the Host header, keeps working behind port-forwards.
/// </summary>
public static class LocalPortRestriction
{
    /// <summary>The ports an endpoint is served on.</summary>
    public sealed record LocalPortsOnly(IReadOnlySet<int> Ports);

    /// <summary>Serves these endpoints only to connections accepted on one of <paramref name="ports"/>.</summary>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, params int[] ports) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(b => b.Metadata.Add(new LocalPortsOnly(ports.ToHashSet())));
        return builder;
    }

    /// <summary>True when an endpoint with <paramref name="metadata"/> is served on <paramref name="port"/>.</summary>
    public static bool IsServedOn(EndpointMetadataCollection metadata, int port) =>
        metadata.GetMetadata<LocalPortsOnly>() is not { } only || only.Ports.Contains(port);

    /// <summary>Answers gRPC UNIMPLEMENTED (or 404) for endpoints reached on another port. Call after UseRouting.</summary>
    public static IApplicationBuilder UseLocalPortRestrictions(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint() is not { } endpoint || IsServedOn(endpoint.Metadata, context.Connection.LocalPort))
        {
            await next(context);
            return;
        }
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            // A trailers-only gRPC response, as for any unknown method.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "12";
            context.Response.Headers["grpc-message"] = $"{context.Request.Path} is not served on this port";
            return;
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
    });
}
