using System.Net;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;

namespace CeleryKube.Worker.Options;

/// <summary>The effective worker settings: <see cref="WorkerOptions"/> with the per-queue defaults filled in.</summary>
/// <param name="Id">Unique worker id.</param>
/// <param name="Queue">The task queue consumed.</param>
/// <param name="Concurrency">Task slots; also the prefetch.</param>
/// <param name="TimeLimit">Hard limit per task.</param>
/// <param name="ShutdownGrace">Time running tasks get to finish on SIGTERM.</param>
/// <param name="ControlPort">WorkerControlService port.</param>
/// <param name="MetricsPort">Prometheus port.</param>
/// <param name="AdvertisedAddress">Control address sent in heartbeats.</param>
/// <param name="FinishWindow">
/// How long a job may run before it is claimed; one that ends sooner is claimed and reported in one
/// call (FinishTask). Zero claims every job before it runs.
/// </param>
public sealed record WorkerSettings(
    string Id,
    TaskQueue Queue,
    int Concurrency,
    TimeSpan TimeLimit,
    TimeSpan ShutdownGrace,
    int ControlPort,
    int MetricsPort,
    string AdvertisedAddress,
    TimeSpan FinishWindow = default)
{
    /// <summary>Default hard limit on the small queue.</summary>
    public static readonly TimeSpan SmallTimeLimit = TimeSpan.FromMinutes(1);

    /// <summary>Default hard limit on the large queue (below the broker's 30 minute consumer timeout).</summary>
    public static readonly TimeSpan LargeTimeLimit = TimeSpan.FromMinutes(20);

    /// <summary>Default concurrency on the large queue: large jobs are memory- and CPU-heavy.</summary>
    public const int LargeConcurrency = 2;

    /// <summary>
    /// Default small-queue slots per core. A small job computes in microseconds but waits for two
    /// ResultSink round trips (each a durable commit), so one slot per core left the CPU idle:
    /// the pipeline benchmark measured 72 -> 133 tasks/s going from 2 to 16 slots on 2 cores.
    /// </summary>
    public const int SmallSlotsPerCore = 8;

    /// <summary>
    /// Cores one job may use (lcs-core's <c>MaxDegreeOfParallelism</c>): 2 on a large worker whose
    /// slots leave a core free per job (e.g. concurrency 1 on 2 cores), else 1. Small jobs are too
    /// short to gain from a second thread.
    /// </summary>
    public int CoresPerJob { get; init; } = 1;

    /// <summary>The broker queue name, e.g. <c>lcs.small</c>.</summary>
    public string QueueName => QueueTopology.QueueName(Queue);

    /// <summary>Unacknowledged deliveries allowed: one per slot, so a busy worker does not hoard jobs.</summary>
    public int Prefetch => Concurrency;

    /// <summary>Fills in per-queue and host defaults. <paramref name="options"/> must be valid.</summary>
    public static WorkerSettings Resolve(WorkerOptions options, ListenOptions listen, string hostName, int processId, int processorCount)
    {
        if (!QueueTopology.TryParse(options.Queue, out var queue))
            throw new ArgumentException($"Worker__Queue must be 'small' or 'large' (got '{options.Queue}')", nameof(options));
        var large = queue == TaskQueue.Large;
        var id = string.IsNullOrWhiteSpace(options.Id) ? $"{hostName}-{processId}" : options.Id.Trim();
        var concurrency = options.Concurrency ?? (large ? LargeConcurrency : SmallSlotsPerCore * Math.Max(1, processorCount));
        return new WorkerSettings(
            id,
            queue,
            concurrency,
            options.TimeLimit ?? (large ? LargeTimeLimit : SmallTimeLimit),
            options.ShutdownGrace,
            options.ControlPort,
            options.MetricsPort,
            string.IsNullOrWhiteSpace(options.AdvertisedAddress)
                ? DefaultAdvertisedAddress(listen.Address, hostName, options.ControlPort)
                : options.AdvertisedAddress.Trim(),
            options.FinishWindow)
        {
            CoresPerJob = large ? Math.Clamp(processorCount / concurrency, 1, 2) : 1,
        };
    }

    /// <summary>
    /// The listen address when it names one interface; the host name when the worker listens on
    /// all of them (<c>0.0.0.0</c> or <c>::</c>), because that address means nothing to a caller.
    /// </summary>
    public static string DefaultAdvertisedAddress(string listenAddress, string hostName, int controlPort)
    {
        var host = IPAddress.TryParse(listenAddress, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
            ? hostName
            : listenAddress;
        if (IPAddress.TryParse(host, out var parsed) && parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            host = $"[{host}]";
        return $"http://{host}:{controlPort}";
    }
}
