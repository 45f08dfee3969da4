using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Options;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// The bytes of submitted texts this task-service holds between reading a SubmitLcs request and
/// committing it, capped at <see cref="LimitsOptions.MaxSubmitBytesInFlight"/>: many concurrent
/// large submissions are refused (RESOURCE_EXHAUSTED, try again) instead of growing memory without
/// bound. A small submission pays one atomic add and one subtract. Kestrel and gRPC read the whole
/// message before the handler runs, so what is counted is what is held beyond that read (validation,
/// the store commit), not the read itself (that is bounded per request by the message size limit).
/// </summary>
public sealed class SubmitBytesInFlight(IOptions<LimitsOptions> limits)
{
    private long bytes;

    /// <summary>Bytes of texts held by submissions in progress.</summary>
    public long Bytes => Interlocked.Read(ref bytes);

    /// <summary>
    /// Counts the request's texts until the returned reservation is disposed, or refuses it with
    /// RESOURCE_EXHAUSTED when that would pass the cap. A submission with none other in flight is
    /// always let through, so every input the code-point limit accepts can be retried to success.
    /// </summary>
    public Reservation Reserve(SubmitLcsRequest request)
    {
        var size = 2L * ((long)request.TextA.Length + request.TextB.Length);
        var total = Interlocked.Add(ref bytes, size);
        var max = limits.Value.MaxSubmitBytesInFlight;
        if (total > max && total != size)
        {
            Interlocked.Add(ref bytes, -size);
            RpcErrors.AtCapacity($"submissions holding {total - size:N0} bytes of text are being stored and this one adds {size:N0}; " +
                $"{max:N0} is the most held at once (Limits__MaxSubmitBytesInFlight). Nothing was stored: try again");
        }
        return new Reservation(this, size);
    }

    /// <summary>One submission's bytes; disposing releases them.</summary>
    public readonly struct Reservation(SubmitBytesInFlight owner, long size) : IDisposable
    {
        /// <inheritdoc />
        public void Dispose() => Interlocked.Add(ref owner.bytes, -size);
    }
}
