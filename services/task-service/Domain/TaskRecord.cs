using CeleryKube.Protos;
using System.Linq.Expressions;
using CeleryKube.Protos.V1;

namespace CeleryKube.TaskService.Domain;

/// <summary>
/// The task aggregate and the one place for its lifecycle rules: which state changes are allowed
/// (<see cref="CanMove"/>), the predicates other code filters by (also as expressions the store
/// runs as SQL), and the transition methods, which are the only way a task changes.
/// </summary>
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
    /// <summary>Unix milliseconds of the last change a reader can see.</summary>
    public long UpdatedAtMs { get; private set; }
    /// <summary>Position in the change feed that <c>WatchTasks</c> follows; stamped by the store at commit, never by the domain.</summary>
    public long ChangeSeq { get; private set; }
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

    /// <summary>
    /// SHA-256 of the running attempt's claim token (<see cref="ClaimToken"/>); reports must present
    /// the token. Kept once that attempt reported the outcome, to know a retry of its report.
    /// </summary>
    public string? ClaimTokenHash { get; private set; }

    /// <summary>How many times the task was retried: which run it is on. Job messages carry it, and only the current run's claim.</summary>
    public int Retries { get; private set; }

    /// <summary>
    /// A task exactly as the store holds it, every column in the order of the properties above (the
    /// hot path's hand-prepared read: EF's compiled query would parse its SQL again on every call).
    /// No rule runs: what is stored was written through the transitions.
    /// </summary>
    public static TaskRecord Restore(string id, TaskState state, TaskQueue queue, LcsAlgorithm algorithm, int textALength, int textBLength,
        int attempts, string? workerId, long createdAtMs, long? startedAtMs, long? finishedAtMs, long updatedAtMs, long changeSeq,
        double progress, int? resultLength, string? resultSubstring, int? resultOffsetA, int? resultOffsetB, string? error,
        string? idempotencyKey, bool cancelRequested, long? leaseExpiresAtMs, string? claimTokenHash, int retries) => new()
    {
        Id = id, State = state, Queue = queue, Algorithm = algorithm, TextALength = textALength, TextBLength = textBLength,
        Attempts = attempts, WorkerId = workerId, CreatedAtMs = createdAtMs, StartedAtMs = startedAtMs, FinishedAtMs = finishedAtMs,
        UpdatedAtMs = updatedAtMs, ChangeSeq = changeSeq, Progress = progress, ResultLength = resultLength,
        ResultSubstring = resultSubstring, ResultOffsetA = resultOffsetA, ResultOffsetB = resultOffsetB, Error = error,
        IdempotencyKey = idempotencyKey, CancelRequested = cancelRequested, LeaseExpiresAtMs = leaseExpiresAtMs,
        ClaimTokenHash = claimTokenHash, Retries = retries,
    };

    // State changes not yet written to task_history; the store takes them when it saves the task.
    private List<TaskHistoryRecord>? unsavedHistory;

    /// <summary>The state changes since the last call, for the store to insert with the task's write.</summary>
    public IReadOnlyList<TaskHistoryRecord> TakeHistory()
    {
        var taken = (IReadOnlyList<TaskHistoryRecord>?)unsavedHistory ?? [];
        unsavedHistory = null;
        return taken;
    }

    // ---- The rules ------------------------------------------------------------------------

    /// <summary>The final states: no worker report moves a task out of these, only <see cref="Retry"/> (the rule every process shares).</summary>
    public static IReadOnlyList<TaskState> FinalStates => TaskStates.Final;

    /// <summary>True when a task in <paramref name="from"/> may move to <paramref name="to"/>.</summary>
    /// <remarks>
    /// PENDING may go straight to RUNNING: a worker can receive the message before the
    /// dispatcher has recorded the broker's confirm. RUNNING may go back to QUEUED only when its
    /// lease lapsed (the reaper) or its worker handed it back on shutdown. FAILED and CANCELLED
    /// go back to PENDING only by <see cref="Retry"/>, which starts a new run; SUCCEEDED never moves.
    /// </remarks>
    public static bool CanMove(TaskState from, TaskState to) => (from, to) switch
    {
        (TaskState.Pending, TaskState.Queued or TaskState.Running or TaskState.Failed or TaskState.Cancelled) => true,
        (TaskState.Queued, TaskState.Running or TaskState.Failed or TaskState.Cancelled) => true,
        (TaskState.Running, TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled or TaskState.Queued) => true,
        (_, TaskState.Pending) when TaskStates.IsRetryable(from) => true,
        _ => false,
    };

    /// <summary>SUCCEEDED, FAILED or CANCELLED (as SQL: <see cref="Finished"/>).</summary>
    public static readonly Expression<Func<TaskState, bool>> FinalState = s => TaskStates.Final.Contains(s);

    /// <summary>A job message for it still has work to do: it has not been claimed or finished (as SQL: <see cref="AwaitingWorker"/>).</summary>
    public static readonly Expression<Func<TaskState, bool>> NeedsPublishingState =
        s => s == TaskState.Pending || s == TaskState.Queued;

    /// <summary>The running attempt's lease ended before the given time (as SQL: <see cref="LeaseLapsedBefore"/>).</summary>
    private static readonly Expression<Func<TaskRecord, long, bool>> LeaseLapsedAt =
        (t, nowMs) => t.State == TaskState.Running && t.LeaseExpiresAtMs < nowMs;

    private static readonly Func<TaskState, bool> IsFinalState = FinalState.Compile();
    private static readonly Func<TaskState, bool> NeedsPublishingFor = NeedsPublishingState.Compile();
    private static readonly Func<TaskRecord, long, bool> LeaseLapsedFor = LeaseLapsedAt.Compile();

    /// <summary>How the error of a task whose job message the broker dead-lettered starts.</summary>
    public const string DeadLetteredErrorPrefix = "dead-lettered from ";

    /// <summary>Tasks that failed because the broker dead-lettered their job message, for queries.</summary>
    public static Expression<Func<TaskRecord, bool>> DeadLettered { get; } =
        t => t.State == TaskState.Failed && t.Error != null && t.Error.StartsWith(DeadLetteredErrorPrefix);

    /// <summary>Tasks in a final state, for queries.</summary>
    public static Expression<Func<TaskRecord, bool>> Finished { get; } = StateExpressions.OnState(FinalState);

    /// <summary>Tasks whose job message should still be published, for queries.</summary>
    public static Expression<Func<TaskRecord, bool>> AwaitingWorker { get; } = StateExpressions.OnState(NeedsPublishingState);

    /// <summary>Running tasks whose lease lapsed before <paramref name="nowMs"/>, for queries.</summary>
    public static Expression<Func<TaskRecord, bool>> LeaseLapsedBefore(long nowMs) => StateExpressions.Bind(LeaseLapsedAt, nowMs);

    /// <summary>True for SUCCEEDED, FAILED and CANCELLED.</summary>
    public static bool IsFinal(TaskState state) => IsFinalState(state);

    /// <summary>True while a job message for a task in this state still has work to do.</summary>
    public static bool NeedsPublishing(TaskState state) => NeedsPublishingFor(state);

    /// <summary>True while cancellation can still change the task (it has not finished).</summary>
    public static bool IsCancellable(TaskState state) => !IsFinalState(state);

    /// <summary>True when the running attempt's lease lapsed before <paramref name="nowMs"/>.</summary>
    public bool LeaseLapsed(long nowMs) => LeaseLapsedFor(this, nowMs);

    /// <summary>True when the task is final.</summary>
    public bool IsDone => IsFinalState(State);

    // ---- Transitions ----------------------------------------------------------------------

    /// <summary>A new submission, PENDING until the broker confirms its job message.</summary>
    public static TaskRecord Submitted(TaskQueue queue, LcsAlgorithm algorithm, int textALength, int textBLength, string? idempotencyKey, long nowMs)
    {
        var task = new TaskRecord
        {
            // Time-ordered (version 7): every index keyed by task id takes new tasks at its end, so
            // a commit of many submits touches a few pages instead of one page per task per index
            // (half the bytes written per task under load, docs/performance.md).
            Id = Guid.CreateVersion7().ToString(),
            Queue = queue,
            Algorithm = algorithm == LcsAlgorithm.Unspecified ? LcsAlgorithm.SuffixArray : algorithm,
            TextALength = textALength,
            TextBLength = textBLength,
            CreatedAtMs = nowMs,
            UpdatedAtMs = nowMs,
            IdempotencyKey = idempotencyKey,
        };
        task.Log(TaskState.Pending, nowMs, "submitted");
        return task;
    }



    /// <summary>What the broker's confirm of the job message does: only a PENDING task moves, to QUEUED (the store also runs this as SQL).</summary>
    public static readonly (TaskState From, TaskState To) BrokerConfirmMove = (TaskState.Pending, TaskState.Queued);

    /// <summary>The history note of the broker's confirm (the store writes that row as SQL too).</summary>
    public const string BrokerConfirmNote = "published";

    /// <summary>The broker confirmed the job message.</summary>
    public void MarkQueued(long nowMs)
    {
        if (State == BrokerConfirmMove.From) MoveTo(BrokerConfirmMove.To, nowMs, BrokerConfirmNote);
    }

    /// <summary>A worker asks to run the task. Decides who runs it; at most one live attempt.</summary>
    /// <param name="retries">The job message's run (<see cref="Retries"/> when it was published); a message of an earlier run never claims.</param>
    /// <param name="claimTokenHash">The hash of the token handed to this attempt's worker; later reports must present the token.</param>
    public StartDecision Claim(string workerId, int retries, bool redelivered, long nowMs, TimeSpan lease, string? claimTokenHash = null) =>
        Claim(workerId, retries, redelivered, nowMs, nowMs, lease, claimTokenHash);

    private StartDecision Claim(string workerId, int retries, bool redelivered, long nowMs, long startedAtMs, TimeSpan lease, string? claimTokenHash)
    {
        // Checked first: the retried run may be RUNNING under a lease a stale redelivery would otherwise take over.
        if (retries != Retries) return StartDecision.SkipSuperseded;
        if (IsDone)
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
        var takeover = State == TaskState.Running;
        Attempts++;
        WorkerId = workerId;
        if (takeover) Log(TaskState.Running, startedAtMs, $"took over from attempt {Attempts - 1}");
        else MoveTo(TaskState.Running, startedAtMs);
        StartedAtMs = startedAtMs;
        UpdatedAtMs = nowMs;
        Progress = 0;
        LeaseExpiresAtMs = nowMs + (long)lease.TotalMilliseconds;
        ClaimTokenHash = claimTokenHash;
        return StartDecision.Proceed;
    }

    /// <summary>Progress of an attempt; answers whether it should stop and renews its lease.</summary>
    public ProgressAnswer RecordProgress(int attempt, string? claimToken, double progress, long nowMs, TimeSpan lease)
    {
        if (State != TaskState.Running) return new(true, $"task is {State.ToString().ToUpperInvariant()}");
        if (attempt != Attempts) return new(true, $"attempt {attempt} was superseded by attempt {Attempts}");
        if (!ClaimToken.Matches(ClaimTokenHash, claimToken)) throw TaskRejection.WrongClaimToken(Id, attempt);
        var next = Math.Clamp(Math.Max(Progress, progress), 0, 1);
        if (next != Progress)
        {
            Progress = next;
            UpdatedAtMs = nowMs;
        }
        LeaseExpiresAtMs = nowMs + (long)lease.TotalMilliseconds;
        return CancelRequested ? new(true, "cancellation requested") : ProgressAnswer.Continue;
    }

    /// <summary>
    /// Only the running attempt may read the task's input from the store (ReadTaskInput), and only
    /// with that attempt's claim token.
    /// </summary>
    public void EnsureInputReadableBy(int attempt, string? claimToken)
    {
        if (State != TaskState.Running || attempt != Attempts)
            throw TaskRejection.FailedPrecondition($"task {Id} is not running attempt {attempt} (it is {State.ToString().ToUpperInvariant()}, attempt {Attempts})");
        if (!ClaimToken.Matches(ClaimTokenHash, claimToken)) throw TaskRejection.WrongClaimToken(Id, attempt);
    }

    /// <summary>Heartbeat of the worker running the current attempt.</summary>
    public void RenewLease(string workerId, long nowMs, TimeSpan lease)
    {
        if (State == TaskState.Running && WorkerId == workerId)
            LeaseExpiresAtMs = nowMs + (long)lease.TotalMilliseconds;
    }

    /// <summary>
    /// The outcome of an attempt. Only the current attempt of a running task can set it, once, and
    /// only with that attempt's claim token; later reports return false and change nothing (the
    /// store answers a retry of the one that set it first, <see cref="WasRecordedBy"/>), a report
    /// with the wrong token is rejected.
    /// </summary>
    public bool Complete(int attempt, string? claimToken, LcsResult? result, string? error, bool cancelled, long nowMs)
    {
        if (State != TaskState.Running || attempt != Attempts) return false;
        if (!ClaimToken.Matches(ClaimTokenHash, claimToken)) throw TaskRejection.WrongClaimToken(Id, attempt);
        Record(result, error, cancelled, nowMs);
        return true;
    }

    /// <summary>
    /// A retry of the claim that started the running attempt (its answer was lost): true when the
    /// attempt holds <paramref name="claimToken"/> and its lease has not lapsed, which it renews, as
    /// the answer announces. A lapsed one is left to <see cref="Claim"/> (a takeover).
    /// </summary>
    public bool RenewRepeatedClaim(string? claimToken, long nowMs, TimeSpan lease)
    {
        if (State != TaskState.Running || LeaseLapsed(nowMs) || !ClaimToken.Matches(ClaimTokenHash, claimToken)) return false;
        LeaseExpiresAtMs = nowMs + (long)lease.TotalMilliseconds;
        return true;
    }

    /// <summary>
    /// True when the task's outcome is stored and was reported with <paramref name="claimToken"/>
    /// (each attempt has its own): a retry of the report that set it, whose answer was lost.
    /// </summary>
    public bool WasRecordedBy(string? claimToken) => IsDone && ClaimToken.Matches(ClaimTokenHash, claimToken);

    /// <summary>The attempt's own outcome; its claim token stays, so a retry of this report can be told from another's.</summary>
    private void Record(LcsResult? result, string? error, bool cancelled, long nowMs)
    {
        if (result is not null)
        {
            ResultLength = result.Length;
            ResultSubstring = result.Substring;
            ResultOffsetA = result.OffsetA;
            ResultOffsetB = result.OffsetB;
            Progress = 1;
            Finish(TaskState.Succeeded, nowMs, null, reportedByAttempt: true);
        }
        else if (cancelled)
        {
            Finish(TaskState.Cancelled, nowMs, "cancelled on request", reportedByAttempt: true);
        }
        else
        {
            Finish(TaskState.Failed, nowMs, string.IsNullOrWhiteSpace(error) ? "the worker reported a failure without a reason" : error,
                reportedByAttempt: true);
        }
    }

    /// <summary>
    /// A run that started as soon as its message arrived and already ended: the claim and the
    /// outcome in one step. The claim follows <see cref="Claim"/>'s rules; only when it proceeds is
    /// the outcome recorded, as a new attempt that started <paramref name="runTime"/> ago and holds
    /// <paramref name="claimTokenHash"/>, the hash of the token the worker made for the run.
    /// </summary>
    public StartDecision ClaimAndComplete(string workerId, int retries, bool redelivered, long nowMs, TimeSpan runTime, LcsResult? result, string? error,
        string? claimTokenHash)
    {
        var startedAtMs = Math.Max(UpdatedAtMs, nowMs - (long)runTime.TotalMilliseconds);
        var decision = Claim(workerId, retries, redelivered, nowMs, startedAtMs, TimeSpan.Zero, claimTokenHash);
        if (decision != StartDecision.Proceed) return decision;
        Record(result, error, cancelled: false, nowMs);
        return decision;
    }

    /// <summary>
    /// Cancellation: a task not yet running ends at once; a running one is asked to stop.
    /// A finished task is rejected with FAILED_PRECONDITION.
    /// </summary>
    public void RequestCancel(long nowMs)
    {
        if (!IsCancellable(State))
            throw TaskRejection.FailedPrecondition(
                $"task {Id} already finished ({State.ToString().ToUpperInvariant()}); only queued or running tasks can be cancelled");
        if (State == TaskState.Running)
        {
            CancelRequested = true;
            UpdatedAtMs = nowMs;
            return;
        }
        Finish(TaskState.Cancelled, nowMs, "cancelled before it started");
    }

    /// <summary>Rejects deleting tasks that have not finished.</summary>
    public static void EnsureDeletable(IReadOnlyCollection<(string Id, TaskState State)> tasks)
    {
        var unfinished = tasks.Where(t => !IsFinal(t.State)).Select(t => t.Id).ToList();
        if (unfinished.Count > 0)
            throw TaskRejection.FailedPrecondition($"tasks that have not finished cannot be deleted (cancel them first): {string.Join(", ", unfinished)}");
    }

    /// <summary>The job message can never reach a worker: the broker dead-lettered it, or refused to take it.</summary>
    public void FailUndeliverable(string reason, long nowMs)
    {
        if (!IsDone) Finish(TaskState.Failed, nowMs, reason);
    }

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
        MoveTo(TaskState.Queued, nowMs, "its worker stopped answering (lease lapsed); requeued");
        LeaseExpiresAtMs = null;
        ClaimTokenHash = null;
        Progress = 0;
        return true;
    }

    /// <summary>
    /// Runs a FAILED or CANCELLED task again with the same inputs: a new run (<see cref="Retries"/>
    /// goes up, so messages of earlier runs are skipped at claim) back at PENDING, with its outcome
    /// cleared; the caller publishes its job message. Any other state is rejected with FAILED_PRECONDITION.
    /// </summary>
    public void Retry(long nowMs)
    {
        if (!TaskStates.IsRetryable(State))
            throw TaskRejection.FailedPrecondition(
                $"task {Id} is {State.Label()}; only FAILED or CANCELLED tasks can be retried");
        Retries++;
        MoveTo(TaskState.Pending, nowMs, "retried");
        FinishedAtMs = null;
        Progress = 0;
        ResultLength = null;
        ResultSubstring = null;
        ResultOffsetA = null;
        ResultOffsetB = null;
        Error = null;
        CancelRequested = false;
        LeaseExpiresAtMs = null;
        ClaimTokenHash = null;
    }

    /// <summary>Rejects retrying tasks that are not FAILED or CANCELLED, naming them all.</summary>
    public static void EnsureRetryable(IReadOnlyCollection<(string Id, TaskState State)> tasks)
    {
        var others = tasks.Where(t => !TaskStates.IsRetryable(t.State)).Select(t => $"{t.Id} ({t.State.Label()})").ToList();
        if (others.Count > 0)
            throw TaskRejection.FailedPrecondition($"only FAILED or CANCELLED tasks can be retried: {string.Join(", ", others)}");
    }

    /// <summary>
    /// Ends the task. Only an outcome the running attempt reported keeps its claim token (a retry of
    /// that report is then known); any other end clears it.
    /// </summary>
    private void Finish(TaskState state, long nowMs, string? error, bool reportedByAttempt = false)
    {
        MoveTo(state, nowMs, error);
        FinishedAtMs = nowMs;
        LeaseExpiresAtMs = null;
        if (!reportedByAttempt) ClaimTokenHash = null;
        CancelRequested = false;
        Error = error;
    }

    private void MoveTo(TaskState next, long nowMs, string? note = null)
    {
        if (!CanMove(State, next))
            throw new InvalidOperationException($"task {Id} cannot move from {State} to {next}");
        var attemptsWorker = State == TaskState.Running || next == TaskState.Running;
        State = next;
        UpdatedAtMs = nowMs;
        Log(next, nowMs, note, attemptsWorker);
    }

    /// <summary>Notes a state change for task_history; the worker only on changes into and out of RUNNING.</summary>
    private void Log(TaskState state, long atMs, string? note, bool withWorker = true) =>
        (unsavedHistory ??= []).Add(new TaskHistoryRecord
        {
            TaskId = Id,
            State = state,
            AtMs = atMs,
            Attempt = Attempts,
            WorkerId = withWorker ? WorkerId : null,
            Note = TaskHistoryRecord.ShortNote(note),
        });
}

/// <summary>What a progress report tells the worker.</summary>
public readonly record struct ProgressAnswer(bool Stop, string Reason)
{
    /// <summary>Keep going.</summary>
    public static readonly ProgressAnswer Continue = new(false, "");
}
