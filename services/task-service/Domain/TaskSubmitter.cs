using CeleryKube.Protos;
using System.Diagnostics;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Api;
using CeleryKube.TaskService.Broker;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Domain;

/// <summary>
/// Accepts a submission: validates it, routes it, and commits the task, its inputs and its outbox
/// row in one transaction. The outbox dispatcher publishes it.
/// </summary>
public sealed class TaskSubmitter(
    TaskStoreWriter writer,
    TaskRouter router,
    BrokerConnection broker,
    TaskMetrics metrics,
    IOptions<LimitsOptions> limits)
{
    /// <summary>Longest accepted idempotency key.</summary>
    public const int MaxIdempotencyKeyLength = 128;

    /// <summary>Validates and stores one submission.</summary>
    public async Task<SubmitLcsResponse> SubmitAsync(SubmitLcsRequest request, CancellationToken cancellationToken)
    {
        var lengthA = ValidText(request.TextA, "text_a");
        var lengthB = ValidText(request.TextB, "text_b");
        if (!Enum.IsDefined(request.Algorithm)) RpcErrors.InvalidArgument("algorithm", $"unknown algorithm {(int)request.Algorithm}");
        if (request.IdempotencyKey.Length > MaxIdempotencyKeyLength)
            RpcErrors.InvalidArgument("idempotency_key", $"must be at most {MaxIdempotencyKeyLength} characters");
        // The outbox would keep the task safe, but a client should know at once that nothing will run.
        if (!broker.IsOpen) RpcErrors.Unavailable("the message broker (RabbitMQ) is unreachable; the task was not accepted, try again");

        var key = request.IdempotencyKey.Length > 0 ? request.IdempotencyKey : null;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var task = new TaskRecord
        {
            Id = Guid.NewGuid().ToString(),
            Queue = router.Route(lengthA, lengthB),
            Algorithm = request.Algorithm == LcsAlgorithm.Unspecified ? LcsAlgorithm.SuffixArray : request.Algorithm,
            TextALength = lengthA,
            TextBLength = lengthB,
            CreatedAtMs = now,
            UpdatedAtMs = now,
            IdempotencyKey = key,
        };
        var traceParent = Activity.Current?.Id;
        var (stored, created) = await writer.WriteAsync(async (db, ct) =>
        {
            if (key is not null)
            {
                var existing = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.IdempotencyKey == key, ct);
                if (existing is not null) return (existing, false);
            }
            db.Tasks.Add(task);
            db.TaskInputs.Add(new TaskInput { TaskId = task.Id, TextA = request.TextA, TextB = request.TextB });
            db.Outbox.Add(new OutboxMessage { TaskId = task.Id, CreatedAtMs = now, TraceParent = traceParent });
            return (task, true);
        }, cancellationToken);
        if (created) metrics.Submitted(stored.Queue);
        return new SubmitLcsResponse { Task = stored.ToProto(), Deduplicated = !created };
    }

    private int ValidText(string text, string field)
    {
        if (text.Length == 0) RpcErrors.InvalidArgument(field, "must not be empty");
        var max = limits.Value.MaxInputChars;
        var length = CodePoints.Count(text);
        if (length > max)
            RpcErrors.ResourceExhausted(field, $"has {length:N0} code points; the limit is {max:N0} (Limits__MaxInputChars)");
        return length;
    }
}
