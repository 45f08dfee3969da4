using System.ComponentModel.DataAnnotations;
using CeleryKube.Messaging;
using CeleryKube.Protos;
using CeleryKube.Protos.V1;

namespace CeleryKube.Worker.Options;

/// <summary>
/// How a worker consumes and runs jobs (<c>Worker__*</c>). Settings left unset (or 0) take
/// per-queue and per-host defaults, filled in by <see cref="WorkerDefaults"/> before validation,
/// so every reader sees the effective values.
/// </summary>
public sealed class WorkerOptions : IValidatableObject
{
    public const string SectionName = "Worker";

    /// <summary>
    /// The largest allowed <see cref="TimeLimit"/>, derived from the broker's consumer timeout
    /// (<see cref="QueueTopology.ConsumerTimeout"/>) and the retry budgets, so that claiming and
    /// reporting still get minutes to ride out a task-service outage (<see cref="Sink.SinkRetryBudgets.MaxTimeLimit"/>).
    /// </summary>
    public static readonly TimeSpan MaxTimeLimit = Sink.SinkRetryBudgets.MaxTimeLimit;

    /// <summary>The queue to consume: <c>small</c> or <c>large</c> (also <c>--queue small|large</c>).</summary>
    [Required]
    public string Queue { get; set; } = "small";

    /// <summary>Task slots (and the prefetch). 0: the processor count x 8 on small, 2 on large.</summary>
    public int Concurrency { get; set; }

    /// <summary>Hard limit per task. 0: 1 minute on small, 20 minutes on large.</summary>
    public TimeSpan TimeLimit { get; set; }

    /// <summary>On SIGTERM, how long running tasks may finish before they are cancelled and requeued.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Port of WorkerControlService, reflection and gRPC health (HTTP/2 only).</summary>
    [Range(1, 65535)]
    public int ControlPort { get; set; } = 5003;

    /// <summary>Port of the Prometheus <c>/metrics</c> endpoint (HTTP/1.1).</summary>
    [Range(1, 65535)]
    public int MetricsPort { get; set; } = 5005;

    /// <summary>Unique worker id. Unset: <c>&lt;hostname&gt;-&lt;pid&gt;</c>.</summary>
    [MaxLength(200)]
    public string Id { get; set; } = "";

    /// <summary>
    /// How long a job may run before the worker claims it (StartTask). A job that ends sooner, as
    /// small jobs do, is claimed and reported in one FinishTask call and one commit. Zero claims
    /// every job before it runs. Far below the lease, so a long job is claimed long before a lease matters.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan FinishWindow { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Sends claims, progress and outcomes over one long-lived stream to task-service (true) rather
    /// than as a unary call each (false).
    /// </summary>
    public bool ReportStream { get; set; } = true;

    /// <summary>
    /// The control address sent in heartbeats. Unset: <c>http://&lt;Listen__Address, or the hostname
    /// when it listens on all interfaces&gt;:&lt;ControlPort&gt;</c>.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "";

    /// <summary>The task queue <see cref="Queue"/> names; unspecified when it names none.</summary>
    public TaskQueue TaskQueue => TaskQueues.Parse(Queue);

    /// <summary>The broker queue name, e.g. <c>lcs.small</c>.</summary>
    public string QueueName => QueueTopology.QueueName(TaskQueue);

    /// <summary>Unacknowledged deliveries allowed: one per slot, so a busy worker does not hoard jobs.</summary>
    public int Prefetch => Concurrency;

    /// <summary>
    /// Cores one job may use (lcs-core's <c>MaxDegreeOfParallelism</c>), derived, not a setting:
    /// 2 on a large worker whose slots leave a core free per job, else 1.
    /// </summary>
    public int CoresPerJob { get; internal set; } = 1;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TaskQueue == TaskQueue.Unspecified)
            yield return new($"must be 'small' or 'large' (got '{Queue}')", [nameof(Queue)]);
        if (Concurrency is < 1 or > 1024)
            yield return new($"must be between 1 and 1024 task slots, or 0 for the per-queue default (got {Concurrency})", [nameof(Concurrency)]);
        if (TimeLimit <= TimeSpan.Zero || TimeLimit > MaxTimeLimit)
            yield return new(
                $"must be above 00:00:00 and at most {MaxTimeLimit:c}, safely below the broker's {QueueTopology.ConsumerTimeout:c} consumer timeout " +
                $"(workers acknowledge a job only after its result is recorded; got {TimeLimit:c})", [nameof(TimeLimit)]);
        if (ShutdownGrace < TimeSpan.Zero || ShutdownGrace > TimeSpan.FromHours(1))
            yield return new($"must be between 00:00:00 and 01:00:00 (got {ShutdownGrace:c})", [nameof(ShutdownGrace)]);
        if (ControlPort == MetricsPort)
            yield return new($"must differ from Worker__MetricsPort (both are {ControlPort})", [nameof(ControlPort)]);
        if (!(Uri.TryCreate(AdvertisedAddress, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            yield return new($"must be an http:// or https:// address, e.g. http://10.0.0.5:5003 (got '{AdvertisedAddress}')", [nameof(AdvertisedAddress)]);
    }
}
