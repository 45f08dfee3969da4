namespace CeleryKube.TaskService.Api;

/// <summary>
/// On the JSON-over-HTTP port a request body is JSON whatever its label: <c>curl -d '{...}'</c>
/// sends <c>application/x-www-form-urlencoded</c> (curl's default) and a bare body sends none,
/// and gRPC JSON transcoding refuses both. The port serves no forms, so such a body is read as
/// <c>application/json</c>; any other content type is left for transcoding to judge.
/// </summary>
public static class JsonBodyDefault
{
    private const string CurlDefault = "application/x-www-form-urlencoded";

    /// <summary>Labels unlabelled and form-labelled bodies on <paramref name="httpApiPort"/> as JSON.</summary>
    public static IApplicationBuilder UseJsonBodyDefault(this IApplicationBuilder app, int httpApiPort) =>
        app.Use((context, next) =>
        {
            var request = context.Request;
            if (context.Connection.LocalPort == httpApiPort && request.ContentLength is not 0 &&
                (string.IsNullOrEmpty(request.ContentType) || request.ContentType.StartsWith(CurlDefault, StringComparison.OrdinalIgnoreCase)))
                request.ContentType = "application/json";
            return next(context);
        });
}
