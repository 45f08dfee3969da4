using System.Net;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace CeleryKube.Worker.Options;

/// <summary>The host facts worker defaults come from.</summary>
/// <param name="HostName">The machine (pod) name.</param>
/// <param name="ProcessId">This process.</param>
/// <param name="ProcessorCount">Cores available to the process.</param>
public sealed record WorkerHost(string HostName, int ProcessId, int ProcessorCount)
{
    /// <summary>This process on this machine.</summary>
    public static WorkerHost Current => new(Environment.MachineName, Environment.ProcessId, Environment.ProcessorCount);
}

/// <summary>
/// Fills in what <see cref="WorkerOptions"/> leaves unset, from the queue and the host, before the
/// options are validated, so a default is computed in this one place.
/// </summary>
public sealed class WorkerDefaults(IOptions<ListenOptions> listen, WorkerHost host) : IPostConfigureOptions<WorkerOptions>
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

    /// <inheritdoc />
    public void PostConfigure(string? name, WorkerOptions options)
    {
        var large = options.TaskQueue == TaskQueue.Large;
        options.Id = string.IsNullOrWhiteSpace(options.Id) ? $"{host.HostName}-{host.ProcessId}" : options.Id.Trim();
        if (options.Concurrency == 0) options.Concurrency = large ? LargeConcurrency : SmallSlotsPerCore * Math.Max(1, host.ProcessorCount);
        if (options.TimeLimit == TimeSpan.Zero) options.TimeLimit = large ? LargeTimeLimit : SmallTimeLimit;
        options.AdvertisedAddress = string.IsNullOrWhiteSpace(options.AdvertisedAddress)
            ? DefaultAdvertisedAddress(listen.Value.Address, host.HostName, options.ControlPort)
            : options.AdvertisedAddress.Trim();
        // Small jobs are too short to gain from a second thread.
        options.CoresPerJob = large && options.Concurrency > 0 ? Math.Clamp(host.ProcessorCount / options.Concurrency, 1, 2) : 1;
    }

    /// <summary>
    /// The listen address when it names one interface; the host name when the worker listens on
    /// all of them (<c>0.0.0.0</c> or <c>::</c>), because that address means nothing to a caller.
    /// </summary>
    public static string DefaultAdvertisedAddress(string listenAddress, string hostName, int controlPort)
    {
        var address = IPAddress.TryParse(listenAddress, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
            ? hostName
            : listenAddress;
        if (IPAddress.TryParse(address, out var parsed) && parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            address = $"[{address}]";
        return $"http://{address}:{controlPort}";
    }
}

/// <summary>Registers the worker's options the one way the host and the tests use.</summary>
public static class WorkerOptionsSetup
{
    /// <summary>
    /// Binds <c>Worker__*</c>, fills in the defaults from <paramref name="host"/> (<see cref="WorkerDefaults"/>),
    /// validates at start and registers the effective <see cref="WorkerOptions"/> as a singleton.
    /// Returns the values as configured, without defaults, for wiring the host.
    /// </summary>
    public static WorkerOptions AddWorkerOptions(this IServiceCollection services, IConfiguration configuration, WorkerHost host)
    {
        var configured = services.AddValidatedOptions<WorkerOptions>(configuration, WorkerOptions.SectionName);
        services.AddSingleton(host);
        services.AddSingleton<IPostConfigureOptions<WorkerOptions>, WorkerDefaults>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<WorkerOptions>>().Value);
        return configured;
    }
}
