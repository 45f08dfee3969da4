using System.Threading.Channels;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// The one reader of the change feed for every WatchTasks stream of this process: after each commit
/// it reads the new changes once (at most <see cref="MaxChangesPerRead"/> per query) and hands the
/// same events to every watcher, so a thousand open browser tabs cost one query per commit, not a
/// thousand. Streams are capped (<see cref="LimitsOptions.MaxWatchStreams"/>); a watcher that falls
/// more than <see cref="WatcherBuffer"/> events behind is ended (ABORTED) instead of growing a backlog.
/// </summary>
public sealed class TaskWatchBroadcast(TaskReader reader, TaskChangeFeed changeFeed, IOptions<LimitsOptions> limits,
    ILogger<TaskWatchBroadcast> logger) : BackgroundService
{
    /// <summary>Most changes read per query, so a burst is read in bounded steps.</summary>
    public const int MaxChangesPerRead = 1000;

    /// <summary>Events a watcher may have unsent before it is ended as too slow.</summary>
    public const int WatcherBuffer = 2048;

    private readonly Lock gate = new();
    private Watcher[] watchers = [];

    /// <summary>Open watch streams.</summary>
    public int Count => Volatile.Read(ref watchers).Length;

    /// <summary>
    /// Starts a watcher for the changes committed from now on, filtered by task ids (empty: all) and
    /// queue; dispose it to leave. Beyond the stream cap it is refused with RESOURCE_EXHAUSTED.
    /// </summary>
    public Watcher Subscribe(IReadOnlyCollection<string> ids, TaskQueue queue)
    {
        var max = limits.Value.MaxWatchStreams;
        lock (gate)
        {
            if (watchers.Length >= max)
                RpcErrors.AtCapacity($"{max:N0} watch streams are open, the most this task-service serves (Limits__MaxWatchStreams); try again later");
            var watcher = new Watcher(this, ids.Count > 0 ? ids.ToHashSet() : null, queue);
            watchers = [.. watchers, watcher];
            return watcher;
        }
    }

    private void Leave(Watcher watcher)
    {
        lock (gate) watchers = watchers.Where(w => w != watcher).ToArray();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await changeFeed.Ready.WaitAsync(stoppingToken);
        var sent = changeFeed.LastChangeSeq;
        TaskReader.ChangeCursor? cursor = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var nextCommit = changeFeed.NextCommitAsync();
                var upTo = changeFeed.LastChangeSeq;
                try
                {
                    while (sent < upTo)
                    {
                        // Nobody watches: nothing to read (a watcher only wants what commits after it came).
                        if (Count == 0)
                        {
                            sent = upTo;
                            break;
                        }
                        cursor ??= await reader.OpenChangeCursorAsync(stoppingToken);
                        var batch = await cursor.ReadAsync(sent, upTo, MaxChangesPerRead, stoppingToken);
                        var events = batch.Changes.Select(ToEvent).ToList();
                        foreach (var watcher in Volatile.Read(ref watchers)) watcher.Offer(events);
                        sent = batch.UpToSeq;
                    }
                    await nextCommit.WaitAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    logger.LogWarning("Reading the change feed for watchers failed, retrying: {Error}", ex.Message);
                    // A fresh connection for the retry: the failure may have been the connection's.
                    if (cursor is not null) await cursor.DisposeAsync();
                    cursor = null;
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
        }
        finally
        {
            if (cursor is not null) await cursor.DisposeAsync();
        }
    }

    private static (TaskChange Change, WatchTasksResponse Event) ToEvent(TaskChange change) =>
        (change, change.Task is { } task
            ? new WatchTasksResponse { Task = task.ToProto() }
            : new WatchTasksResponse { Task = new LcsTask { Id = change.TaskId, Queue = change.Queue }, Deleted = true });

    /// <summary>One WatchTasks stream's place in the broadcast: its filter and its unsent events.</summary>
    public sealed class Watcher : IDisposable
    {
        private readonly TaskWatchBroadcast owner;
        private readonly HashSet<string>? ids;
        private readonly TaskQueue queue;
        private readonly Channel<WatchTasksResponse> events =
            Channel.CreateBounded<WatchTasksResponse>(new BoundedChannelOptions(WatcherBuffer) { SingleReader = true, SingleWriter = true });

        internal Watcher(TaskWatchBroadcast owner, HashSet<string>? ids, TaskQueue queue)
        {
            this.owner = owner;
            this.ids = ids;
            this.queue = queue;
        }

        /// <summary>The events for this stream, in commit order; ends with an error when the stream fell too far behind.</summary>
        public ChannelReader<WatchTasksResponse> Events => events.Reader;

        internal void Offer(List<(TaskChange Change, WatchTasksResponse Event)> batch)
        {
            foreach (var (change, update) in batch)
            {
                if (ids is not null && !ids.Contains(change.TaskId)) continue;
                if (queue != TaskQueue.Unspecified && change.Queue != queue) continue;
                if (events.Writer.TryWrite(update)) continue;
                events.Writer.TryComplete(new RpcException(new Status(StatusCode.Aborted,
                    $"this watch stream fell more than {WatcherBuffer:N0} events behind and was ended; watch again (and re-read what you show)")));
                owner.Leave(this);
                return;
            }
        }

        /// <inheritdoc />
        public void Dispose() => owner.Leave(this);
    }
}
