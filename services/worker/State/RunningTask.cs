using CeleryKube.Protos.V1;

namespace CeleryKube.Worker.State;

/// <summary>One attempt running on this worker, as WorkerControlService and heartbeats show it.</summary>
public sealed class RunningTask(string taskId, int attempt, LcsAlgorithm algorithm, int textALength, int textBLength,
    DateTimeOffset startTime, int deliveryCount)
{
    private double progress;

    public string TaskId { get; } = taskId;

    /// <summary>The attempt number from StartTask.</summary>
    public int Attempt { get; } = attempt;

    /// <summary>The attempt's claim token from StartTask: every report of this attempt presents it (never logged).</summary>
    public string ClaimToken { get; init; } = "";

    public LcsAlgorithm Algorithm { get; } = algorithm;

    /// <summary>Length of the first text in code points.</summary>
    public int TextALength { get; } = textALength;

    /// <summary>Length of the second text in code points.</summary>
    public int TextBLength { get; } = textBLength;

    /// <summary>When the attempt started here.</summary>
    public DateTimeOffset StartTime { get; } = startTime;

    /// <summary>The broker's delivery count (1 on first delivery).</summary>
    public int DeliveryCount { get; } = deliveryCount;

    /// <summary>Latest progress (0..1); written by the computing thread, read by control calls.</summary>
    public double Progress
    {
        get => Volatile.Read(ref progress);
        set => Volatile.Write(ref progress, value);
    }
}
