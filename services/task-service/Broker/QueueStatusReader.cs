using CeleryKube.Messaging;
using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Broker;

/// <summary>Reads queue depth and consumer counts from the broker (passive declares).</summary>
public sealed class QueueStatusReader(BrokerConnection broker)
{
    /// <summary>The work queues and the dead-letter queue, or null when the broker is unreachable.</summary>
    public async Task<IReadOnlyList<QueueStatus>?> ReadAsync(CancellationToken cancellationToken)
    {
        if (!broker.IsOpen) return null;
        try
        {
            var connection = await broker.GetAsync(cancellationToken);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            var statuses = new List<QueueStatus>();
            foreach (var (name, queue) in QueueTopology.TaskQueues.Select(q => (QueueTopology.QueueName(q), q))
                         .Append((QueueTopology.DeadLetterQueue, TaskQueue.Unspecified)))
            {
                var ok = await channel.QueueDeclarePassiveAsync(name, cancellationToken);
                statuses.Add(new QueueStatus { Name = name, Queue = queue, Depth = ok.MessageCount, Consumers = (int)ok.ConsumerCount });
            }
            return statuses;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null;
        }
    }
}
