namespace CeleryKube.Protos;

/// <summary>
/// How a WatchTasks client tells a live stream from a refusal without a race. task-service sends
/// response headers carrying <see cref="Live"/> as soon as the stream is open; a refusal (a bad id,
/// the stream cap) is a trailers-only response, whose headers never carry it. Awaiting the headers
/// and then asking the call for its status is not enough: the gRPC client may hand out a
/// refusal's headers before it has recorded the status.
/// </summary>
public static class WatchStreamHeaders
{
    /// <summary>Response header (value <c>1</c>) that marks an open WatchTasks stream.</summary>
    public const string Live = "celerykube-watch-live";

    /// <summary>The headers task-service sends when a stream opens.</summary>
    public static Grpc.Core.Metadata LiveHeaders() => new() { { Live, "1" } };

    /// <summary>True when <paramref name="headers"/> are those of an open stream.</summary>
    public static bool IsLive(Grpc.Core.Metadata headers) => headers.Get(Live) is not null;
}
