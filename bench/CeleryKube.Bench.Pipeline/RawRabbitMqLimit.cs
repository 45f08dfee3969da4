using System.Diagnostics;
using CeleryKube.Protos.V1;
using Google.Protobuf;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace CeleryKube.Bench.Pipeline;

/// <summary>
/// The raw broker round trip: publish persistent job messages with publisher confirms (many in
/// flight) to a quorum queue of its own on the same node, consume them and ack each one.
/// Messages are serialized <see cref="LcsJob"/>s of the same size as the pipeline's.
/// </summary>
public static class RawRabbitMqLimit
{
    /// <summary>Confirms awaited together (the outbox dispatcher publishes 256 per round).</summary>
    public const int ConfirmsInFlight = 256;

    /// <summary>Unacked deliveries the consumer may hold.</summary>
    public const ushort ConsumerPrefetch = 64;

    /// <summary>Messages per second from first publish until the last ack.</summary>
    public static async Task<double> MessagesPerSecondAsync(string uri, int messages, int textLength, TimeSpan timeout)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri), ClientProvidedName = "celerykube-bench raw" };
        await using var publisherConnection = await factory.CreateConnectionAsync();
        await using var consumerConnection = await factory.CreateConnectionAsync();
        var queue = $"bench.raw.{textLength}";
        await using var publisher = await publisherConnection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null));
        await publisher.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        await publisher.QueuePurgeAsync(queue);

        var body = new LcsJob
        {
            TaskId = Guid.NewGuid().ToString(),
            TextA = Texts.Random(textLength),
            TextB = Texts.Random(textLength),
            Algorithm = LcsAlgorithm.SuffixArray,
        }.ToByteArray();

        await using var consumerChannel = await consumerConnection.CreateChannelAsync();
        await consumerChannel.BasicQosAsync(0, ConsumerPrefetch, false);
        var received = 0;
        var allAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(consumerChannel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await consumerChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            if (Interlocked.Increment(ref received) == messages) allAcked.TrySetResult();
        };
        var tag = await consumerChannel.BasicConsumeAsync(queue, autoAck: false, consumer);

        var clock = Stopwatch.StartNew();
        for (var first = 0; first < messages; first += ConfirmsInFlight)
        {
            var round = Enumerable.Range(first, Math.Min(ConfirmsInFlight, messages - first)).Select(i =>
                publisher.BasicPublishAsync("", queue, mandatory: true,
                    new BasicProperties { Persistent = true, ContentType = "application/x-protobuf", MessageId = i.ToString() }, body).AsTask());
            await Task.WhenAll(round);
        }
        await allAcked.Task.WaitAsync(timeout);
        var rate = messages / clock.Elapsed.TotalSeconds;
        await consumerChannel.BasicCancelAsync(tag);
        await publisher.QueueDeleteAsync(queue);
        return rate;
    }
}
