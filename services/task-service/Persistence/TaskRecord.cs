using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;

namespace CeleryKube.TaskService.Persistence;

/// <summary>A row of the <c>tasks</c> table. Its methods are the only way a task changes state.</summary>
public sealed class TaskRecord
{
    /// <summary>Task id (UUID text).</summary>
    public required string Id { get; init; }
    /// <summary>Lifecycle state.</summary>
    public TaskState State { get; private set; } = TaskState.Pending;
    /// <summary>Routed queue.</summary>
    public TaskQueue Queue { get; init; }
    /// <summary>Algorithm.</summary>
    public LcsAlgorithm Algorithm { get; init; }
    /// <summary>Code points of text A.</summary>
    public int TextALength { get; init; }
    /// <summary>Code points of text B.</summary>
    public int TextBLength { get; init; }
    /// <summary>Claims so far.</summary>
    public int Attempts { get; private set; }
    /// <summary>Worker of the latest attempt.</summary>
    public string? WorkerId { get; private set; }
    /// <summary>Unix milliseconds of acceptance.</summary>
    public long CreatedAtMs { get; init; }
    /// <summary>Unix milliseconds the latest attempt started.</summary>
    public long? StartedAtMs { get; private set; }
    /// <summary>Unix milliseconds the task reached a final state.</summary>
    public long? FinishedAtMs { get; private set; }
    /// <summary>Unix milliseconds of the last change.</summary>
    public long UpdatedAtMs { get; set; }
    /// <summary>Position in the change feed that <c>WatchTasks</c> follows; set by the writer.</summary>
    public long ChangeSeq { get; set; }
    /// <summary>Progress 0..1 of the running attempt.</summary>
    public double Progress { get; private set; }
    /// <summary>Result length (code points) when SUCCEEDED.</summary>
    public int? ResultLength { get; private set; }
    /// <summary>The common substring when SUCCEEDED.</summary>
    public string? ResultSubstring { get; private set; }
    /// <summary>Code-point offset in text A.</summary>
    public int? ResultOffsetA { get; private set; }
    /// <summary>Code-point offset in text B.</summary>
    public int? ResultOffsetB { get; private set; }
    /// <summary>Why it failed or was cancelled.</summary>
    public string? Error { get; private set; }
    /// <summary>Client's idempotency key (unique when present).</summary>
    public string? IdempotencyKey { get; init; }
    /// <summary>Cancellation asked for while running.</summary>
    public bool CancelRequested { get; private set; }
    /// <summary>Unix milliseconds the running attempt's lease ends.</summary>
    public long? LeaseExpiresAtMs { get; private set; }

    /// <summary>The inputs (loaded only when needed).</summary>
    public TaskInput? Input { get; set; }

    /// <summary>The broker confirmed the job message.</summary>
    public void MarkQueued()
    {
        if (State == TaskState.Pending) MoveTo(TaskState.Queued);
    }

    /// <summary>A worker asks to run the task. Decides who runs it; at most one live attempt.</summary>
    public StartDecision Claim(string workerId, bool redelivered, long nowMs, TimeSpan lease)
    {
        if (TaskStateMachine.IsFinal(State))
            return State == TaskState.Cancelled ? StartDecision.SkipCancelled : StartDecision.SkipFinished;
        // A redelivery means the broker gave up on the previous consumer, so its attempt is dead
        // even if its lease has not lapsed yet; a fresh duplicate message must not steal a live claim.
        if (State == TaskState.Running && !redelivered && LeaseExpiresAtMs > nowMs)
            return StartDecision.SkipClaimed;
        if (State == TaskState.Running && CancelRequested)
        {
            Finish(TaskState.Cancelled, nowMs, "cancelled on request");
            return StartDecision.SkipCancelled;
        }
        if (State != TaskState.Running) MoveTo(TaskState.Running);
        Attempts++;
        WorkerId = workerId;
        StartedAtMs = nowMs;
        Progress = 0;
        LeaseExpiresAtMs = nowMs + (long)lease.TotalMilliseconds;
        return StartDecision.Proceed;
    }

    /// <summary>Progress of an attempt; answers whether it should stop and renews its lease.</summary>
    public (bool Stop, string Reason) RecordProgress(int attempt, double progress, long nowMs, TimeSpan lease)
    {
        if (State != TaskState.Running) return (true, $"task is {State.ToString().ToUpperInvariant()}");
        if (attempt != Attempts) return (true, $"attempt {attempt} was superseded by attempt {Attempts}");
        Progress = Math.Clamp(Math.Max(Progress, progress), 0, 1);
        LeaseExpiresAtMs = nowMs + (long)lease.TotalMilliseconds;
        return CancelRequested ? (true, "cancellation requested") : (false, "");
    }

    /// <summary>Heartbeat of the worker running the current attempt.</summary>
    public void RenewLease(string workerId, long nowMs, TimeSpan lease)
    {
        if (State == TaskState.Running && WorkerId == workerId)
            LeaseExpiresAtMs = nowMs + (long)lease.TotalMilliseconds;
    }

    /// <summary>
    /// The outcome of an attempt. Only the current attempt of a running task can set it, once;
    /// duplicates and late reports return false and change nothing.
    /// </summary>
    public bool Complete(int attempt, LcsResult? result, string? error, bool cancelled, long nowMs)
    {
        if (State != TaskState.Running || attempt != Attempts) return false;
        if (result is not null)
        {
            ResultLength = result.Length;
            ResultSubstring = result.Substring;
            ResultOffsetA = result.OffsetA;
            ResultOffsetB = result.OffsetB;
            Progress = 1;
            Finish(TaskState.Succeeded, nowMs, null);
        }
        else if (cancelled)
        {
            Finish(TaskState.Cancelled, nowMs, "cancelled on request");
        }
        else
        {
            Finish(TaskState.Failed, nowMs, string.IsNullOrWhiteSpace(error) ? "the worker reported a failure without a reason" : error);
        }
        return true;
    }

    /// <summary>
    /// Cancellation: a task not yet running ends at once; a running one is asked to stop.
    /// Returns false when the task already finished.
    /// </summary>
    public bool RequestCancel(long nowMs)
    {
        if (TaskStateMachine.IsFinal(State)) return false;
        if (State == TaskState.Running)
        {
            CancelRequested = true;
            return true;
        }
        Finish(TaskState.Cancelled, nowMs, "cancelled before it started");
        return true;
    }

    /// <summary>The broker dead-lettered the job message.</summary>
    public void FailDeadLettered(string reason, long nowMs)
    {
        if (!TaskStateMachine.IsFinal(State)) Finish(TaskState.Failed, nowMs, reason);
    }

    /// <summary>True when the running attempt's lease lapsed before <paramref name="nowMs"/>.</summary>
    public bool LeaseLapsed(long nowMs) => State == TaskState.Running && LeaseExpiresAtMs < nowMs;

    /// <summary>
    /// Its worker vanished: a task being cancelled ends CANCELLED; any other goes back to QUEUED
    /// (the caller republishes it). Returns true when it must be republished.
    /// </summary>
    public bool ReleaseLapsedLease(long nowMs)
    {
        if (!LeaseLapsed(nowMs)) return false;
        if (CancelRequested)
        {
            Finish(TaskState.Cancelled, nowMs, "cancelled on request (its worker stopped answering)");
            return false;
        }
        MoveTo(TaskState.Queued);
        LeaseExpiresAtMs = null;
        Progress = 0;
        return true;
    }

    private void Finish(TaskState state, long nowMs, string? error)
    {
        MoveTo(state);
        FinishedAtMs = nowMs;
        LeaseExpiresAtMs = null;
        CancelRequested = false;
        Error = error;
    }

    private void MoveTo(TaskState next)
    {
        if (!TaskStateMachine.CanMove(State, next))
            throw new InvalidOperationException($"task {Id} cannot move from {State} to {next}");
        State = next;
    }
}
