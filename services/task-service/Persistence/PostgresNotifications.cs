using Npgsql;

namespace CeleryKube.TaskService.Persistence;

/// <summary>
/// Carries other replicas' commits into this replica's <see cref="TaskChangeFeed"/>: the change
/// stamp NOTIFYs each commit's sequence number and the outbox trigger NOTIFYs rows left for any
/// replica to publish. It listens on one dedicated connection outside the pool (a pooled one would
/// be handed to others), reads the counter again after every (re)connect since notifications sent
/// while it was away are lost, and every <see cref="PollInterval"/> without one as a safety net.
/// </summary>
internal sealed class PostgresNotifications(string connectionString, TaskChangeFeed changeFeed, ILogger<PostgresNotifications> logger) : BackgroundService
{
    // Both channel names are also in the Postgres InitialCreate migration (stamp_changes() and the
    // outbox trigger send on them); renaming one needs a migration.

    /// <summary>Channel of the change stamp's sequence numbers (the payload).</summary>
    public const string ChangesChannel = "celerykube_changes";

    /// <summary>Channel of outbox rows inserted unclaimed (requeues): dispatchers should look.</summary>
    public const string OutboxChannel = "celerykube_outbox";

    /// <summary>How long the listener waits for a notification before reading the counter itself.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listenerConnection = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 10 }.ConnectionString;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(listenerConnection);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (e.Channel == ChangesChannel && long.TryParse(e.Payload, out var seq)) changeFeed.Notify(seq);
                    else if (e.Channel == OutboxChannel) changeFeed.NotifyOutboxRows();
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {ChangesChannel}; LISTEN {OutboxChannel};", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                changeFeed.Notify(await ReadCounterAsync(connection, stoppingToken), addedOutboxRows: true);
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(PollInterval, stoppingToken))
                        changeFeed.Notify(await ReadCounterAsync(connection, stoppingToken));
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Listening for other replicas' commits failed, reconnecting: {Error}", ex.Message);
                // Real time, not the store's clock: this waits for a network, not for a rule.
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task<long> ReadCounterAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand(ChangeStamp.Read, connection);
        return (long)(await read.ExecuteScalarAsync(cancellationToken))!;
    }
}
