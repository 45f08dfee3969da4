using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CeleryKube.ServiceDefaults;

/// <summary>
/// Keeps endpoints on the port they belong to (e.g. the internal ResultSink off the public port).
/// Matching on the local port, not the Host header, keeps working behind port-forwards.
/// </summary>
public static class LocalPortRestriction
{
    private sealed record LocalPortOnly(int Port);

    /// <summary>Serves these endpoints only to connections accepted on <paramref name="port"/>.</summary>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, int port) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(b => b.Metadata.Add(new LocalPortOnly(port)));
        return builder;
    }

    /// <summary>Answers gRPC UNIMPLEMENTED (or 404) for endpoints reached on another port. Call after UseRouting.</summary>
    public static IApplicationBuilder UseLocalPortRestrictions(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var only = context.GetEndpoint()?.Metadata.GetMetadata<LocalPortOnly>();
        if (only is null || context.Connection.LocalPort == only.Port)
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
