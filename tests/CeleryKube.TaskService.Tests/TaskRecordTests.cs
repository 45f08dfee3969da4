using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Domain;

namespace CeleryKube.TaskService.Tests;

public sealed class TaskRecordTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private const string Token = "claim-token-of-the-attempt";
    private static readonly string TokenHash = ClaimToken.Hash(Token);

    private static TaskRecord NewTask() => new() { Id = Guid.NewGuid().ToString(), Queue = TaskQueue.Small, CreatedAtMs = 1 };

    [Fact]
    public void A_normal_run_goes_pending_queued_running_succeeded()
    {
        var task = NewTask();
        task.MarkQueued(50);
        Assert.Equal(TaskState.Queued, task.State);
        Assert.Equal(StartDecision.Proceed, task.Claim("w1", 0, redelivered: false, 100, Lease, TokenHash));
        Assert.Equal(TaskState.Running, task.State);
        Assert.Equal(1, task.Attempts);
        Assert.True(task.Complete(1, Token, new LcsResult { Length = 3, Substring = "abc", OffsetA = 1, OffsetB = 2 }, null, false, 200));
        Assert.Equal(TaskState.Succeeded, task.State);
        Assert.Equal("abc", task.ResultSubstring);
        Assert.Equal(200, task.FinishedAtMs);
    }

    [Fact]
    public void A_duplicate_or_late_report_changes_nothing()
    {
        var task = NewTask();
        task.Claim("w1", 0, false, 100, Lease, TokenHash);
        Assert.True(task.Complete(1, Token, new LcsResult { Length = 3, Substring = "abc" }, null, false, 200));
        Assert.False(task.Complete(1, Token, new LcsResult { Length = 1, Substring = "x" }, null, false, 300));
        Assert.False(task.Complete(1, Token, null, "boom", false, 300));
        Assert.Equal(TaskState.Succeeded, task.State);
        Assert.Equal("abc", task.ResultSubstring);
        Assert.Equal(200, task.FinishedAtMs);
    }

    [Fact]
    public void Only_the_claim_token_of_the_attempt_that_reported_the_outcome_marks_a_report_as_its_retry()
    {
        const string second = "claim-token-of-the-second-attempt";
        var task = NewTask();
        task.Claim("w1", 0, false, 100, Lease, TokenHash);
        task.Claim("w2", 0, redelivered: true, 200, Lease, ClaimToken.Hash(second));
        Assert.False(task.WasRecordedBy(second));
        Assert.True(task.Complete(2, second, new LcsResult { Length = 3, Substring = "abc" }, null, false, 300));

        Assert.True(task.WasRecordedBy(second));
        Assert.False(task.WasRecordedBy(Token));
        Assert.False(task.WasRecordedBy(null));

        var quick = NewTask();
        Assert.Equal(StartDecision.Proceed, quick.ClaimAndComplete("w1", 0, false, 100, TimeSpan.Zero, new LcsResult { Length = 1 }, null, TokenHash));
        Assert.True(quick.WasRecordedBy(Token));
        Assert.Equal(StartDecision.SkipFinished, quick.ClaimAndComplete("w2", 0, true, 200, TimeSpan.Zero, new LcsResult { Length = 1 }, null, ClaimToken.Hash(second)));
        Assert.True(quick.WasRecordedBy(Token));
    }

    [Fact]
    public void Only_the_running_attempts_claim_token_marks_a_claim_as_its_retry_which_renews_the_lease()
    {
        const string second = "claim-token-of-the-second-attempt";
        var task = NewTask();
        Assert.False(task.RenewRepeatedClaim(Token, 50, Lease));
        task.Claim("w1", 0, false, 100, Lease, TokenHash);
        Assert.True(task.RenewRepeatedClaim(Token, 150, Lease));
        Assert.Equal(150 + (long)Lease.TotalMilliseconds, task.LeaseExpiresAtMs);
        task.Claim("w2", 0, redelivered: true, 200, Lease, ClaimToken.Hash(second));
        Assert.False(task.RenewRepeatedClaim(Token, 250, Lease));
        Assert.True(task.RenewRepeatedClaim(second, 250, Lease));
        Assert.Equal((2, "w2"), (task.Attempts, task.WorkerId));
        task.Complete(2, second, new LcsResult { Length = 1 }, null, false, 300);
        Assert.False(task.RenewRepeatedClaim(second, 350, Lease));
    }

    [Fact]
    public void A_claim_retried_after_its_lease_lapsed_is_no_retry_and_a_requeued_task_keeps_no_token()
    {
        var task = NewTask();
        task.Claim("w1", 0, false, 100, Lease, TokenHash);
        var lapsed = 100 + (long)Lease.TotalMilliseconds + 1;
        Assert.False(task.RenewRepeatedClaim(Token, lapsed, Lease));
        Assert.True(task.ReleaseLapsedLease(lapsed));
        Assert.False(task.RenewRepeatedClaim(Token, lapsed + 1, Lease));
        Assert.Null(task.ClaimTokenHash);
    }

    [Fact]
    public void An_outcome_the_worker_did_not_report_is_no_reports_retry()
    {
        var undeliverable = NewTask();
        undeliverable.Claim("w1", 0, false, 100, Lease, TokenHash);
        undeliverable.FailUndeliverable("dead-lettered from lcs.small", 150);
        Assert.False(undeliverable.WasRecordedBy(Token));

        var cancelledAtClaim = NewTask();
        cancelledAtClaim.Claim("w1", 0, false, 100, Lease, TokenHash);
        cancelledAtClaim.RequestCancel(150);
        Assert.Equal(StartDecision.SkipCancelled, cancelledAtClaim.Claim("w2", 0, redelivered: true, 200, Lease, ClaimToken.Hash("another-claim-token")));
        Assert.False(cancelledAtClaim.WasRecordedBy(Token));

        var lapsed = NewTask();
        lapsed.Claim("w1", 0, false, 100, Lease, TokenHash);
        lapsed.RequestCancel(150);
        lapsed.ReleaseLapsedLease(100 + (long)Lease.TotalMilliseconds + 1);
        Assert.Equal(TaskState.Cancelled, lapsed.State);
        Assert.False(lapsed.WasRecordedBy(Token));

        var retried = NewTask();
        retried.Claim("w1", 0, false, 100, Lease, TokenHash);
        retried.Complete(1, Token, null, "boom", false, 200);
        retried.Retry(300);
        Assert.False(retried.WasRecordedBy(Token));
    }

    [Fact]
    public void A_second_fresh_message_cannot_steal_a_live_claim_but_a_redelivery_takes_over()
    {
        var task = NewTask();
        Assert.Equal(StartDecision.Proceed, task.Claim("w1", 0, false, 100, Lease, TokenHash));
        Assert.Equal(StartDecision.SkipClaimed, task.Claim("w2", 0, false, 200, Lease, TokenHash));
        Assert.Equal(StartDecision.Proceed, task.Claim("w2", 0, redelivered: true, 300, Lease, TokenHash));
        Assert.Equal(2, task.Attempts);
        Assert.Equal("w2", task.WorkerId);
        // The first attempt is told to stop and its result is ignored.
        Assert.True(task.RecordProgress(1, Token, 0.5, 400, Lease).Stop);
        Assert.False(task.Complete(1, Token, new LcsResult { Length = 1, Substring = "a" }, null, false, 500));
        Assert.Equal(TaskState.Running, task.State);
    }

    [Fact]
    public void Claims_of_finished_tasks_are_skipped_with_the_reason()
    {
        var cancelled = NewTask();
        cancelled.RequestCancel(10);
        Assert.Equal(StartDecision.SkipCancelled, cancelled.Claim("w1", 0, false, 20, Lease, TokenHash));

        var done = NewTask();
        done.Claim("w1", 0, false, 10, Lease, TokenHash);
        done.Complete(1, Token, null, "boom", false, 20);
        Assert.Equal(StartDecision.SkipFinished, done.Claim("w2", 0, true, 30, Lease, TokenHash));
    }

    [Fact]
    public void Cancelling_a_running_task_asks_the_worker_to_stop_then_ends_cancelled()
    {
        var task = NewTask();
        task.Claim("w1", 0, false, 10, Lease, TokenHash);
        task.RequestCancel(20);
        Assert.Equal(TaskState.Running, task.State);
        Assert.True(task.CancelRequested);
        var (stop, reason) = task.RecordProgress(1, Token, 0.3, 30, Lease);
        Assert.True(stop);
        Assert.Contains("cancel", reason);
        Assert.True(task.Complete(1, Token, null, null, cancelled: true, 40));
        Assert.Equal(TaskState.Cancelled, task.State);
        var refused = Assert.Throws<TaskRejection>(() => task.RequestCancel(50));
        Assert.Equal(RejectionKind.FailedPrecondition, refused.Kind);
        Assert.Contains("already finished (CANCELLED)", refused.Message);
    }

    [Fact]
    public void A_lapsed_lease_puts_the_task_back_on_its_queue_or_ends_a_cancelled_one()
    {
        var task = NewTask();
        task.Claim("w1", 0, false, 0, TimeSpan.FromMilliseconds(100), TokenHash);
        Assert.False(task.ReleaseLapsedLease(50));
        Assert.True(task.ReleaseLapsedLease(200));
        Assert.Equal(TaskState.Queued, task.State);

        var cancelling = NewTask();
        cancelling.Claim("w1", 0, false, 0, TimeSpan.FromMilliseconds(100), TokenHash);
        cancelling.RequestCancel(10);
        Assert.False(cancelling.ReleaseLapsedLease(200));
        Assert.Equal(TaskState.Cancelled, cancelling.State);
    }

    [Fact]
    public void Progress_never_goes_backwards_and_renews_the_lease()
    {
        var task = NewTask();
        task.Claim("w1", 0, false, 0, Lease, TokenHash);
        task.RecordProgress(1, Token, 0.6, 1000, Lease);
        task.RecordProgress(1, Token, 0.4, 2000, Lease);
        Assert.Equal(0.6, task.Progress);
        Assert.Equal(2000 + (long)Lease.TotalMilliseconds, task.LeaseExpiresAtMs);
    }

    [Fact]
    public void Final_states_have_no_way_out_but_a_retry_of_failed_and_cancelled()
    {
        foreach (var final in TaskRecord.FinalStates)
        {
            foreach (var next in Enum.GetValues<TaskState>())
            {
                var retry = next == TaskState.Pending && final is TaskState.Failed or TaskState.Cancelled;
                Assert.True(TaskRecord.CanMove(final, next) == retry, $"{final} -> {next} must be {(retry ? "allowed (a retry)" : "refused")}");
            }
        }
        Assert.False(TaskRecord.CanMove(TaskState.Running, TaskState.Pending));
        Assert.False(TaskRecord.CanMove(TaskState.Queued, TaskState.Pending));
    }

    [Fact]
    public void The_predicates_agree_with_the_states_they_name()
    {
        foreach (var state in Enum.GetValues<TaskState>())
        {
            Assert.Equal(TaskRecord.FinalStates.Contains(state), TaskRecord.IsFinal(state));
            Assert.Equal(!TaskRecord.IsFinal(state), TaskRecord.IsCancellable(state));
            Assert.Equal(state is TaskState.Pending or TaskState.Queued, TaskRecord.NeedsPublishing(state));
        }
        var task = NewTask();
        task.Claim("w1", 0, false, 0, TimeSpan.FromMilliseconds(100), TokenHash);
        var lapsed = TaskRecord.LeaseLapsedBefore(200).Compile();
        Assert.False(TaskRecord.LeaseLapsedBefore(50).Compile()(task));
        Assert.True(lapsed(task));
        Assert.Equal(task.LeaseLapsed(200), lapsed(task));
    }

    [Fact]
    public void Every_transition_stamps_the_update_time()
    {
        var task = NewTask();
        task.MarkQueued(10);
        Assert.Equal(10, task.UpdatedAtMs);
        task.Claim("w1", 0, false, 20, Lease, TokenHash);
        Assert.Equal(20, task.UpdatedAtMs);
        task.RecordProgress(1, Token, 0.5, 30, Lease);
        Assert.Equal(30, task.UpdatedAtMs);
        task.Complete(1, Token, null, "boom", false, 40);
        Assert.Equal(40, task.UpdatedAtMs);
    }

    [Fact]
    public void A_report_with_another_attempts_claim_token_is_rejected_and_changes_nothing()
    {
        var task = NewTask();
        task.Claim("w1", 0, false, 10, Lease, TokenHash);
        var lease = task.LeaseExpiresAtMs;
        var progress = Assert.Throws<TaskRejection>(() => task.RecordProgress(1, "guessed", 0.7, 20, Lease));
        Assert.Equal(RejectionKind.PermissionDenied, progress.Kind);
        var complete = Assert.Throws<TaskRejection>(() => task.Complete(1, null, new LcsResult { Length = 1, Substring = "x" }, null, false, 30));
        Assert.Equal(RejectionKind.PermissionDenied, complete.Kind);
        Assert.Equal((TaskState.Running, 0.0, lease, (string?)null), (task.State, task.Progress, task.LeaseExpiresAtMs, task.ResultSubstring));
    }

    [Fact]
    public void Every_state_change_of_a_run_is_logged_with_its_attempt_and_worker()
    {
        var task = TaskRecord.Submitted(TaskQueue.Small, LcsAlgorithm.SuffixArray, 3, 3, null, 10);
        task.MarkQueued(20);
        task.Claim("w1", 0, false, 30, Lease, TokenHash);
        task.Complete(1, Token, null, "boom", false, 40);
        var history = task.TakeHistory();
        Assert.Equal([TaskState.Pending, TaskState.Queued, TaskState.Running, TaskState.Failed], history.Select(h => h.State));
        Assert.Equal([10L, 20, 30, 40], history.Select(h => h.AtMs));
        Assert.Equal([0, 0, 1, 1], history.Select(h => h.Attempt));
        Assert.Equal([null, null, "w1", "w1"], history.Select(h => h.WorkerId));
        Assert.Equal("boom", history[^1].Note);
        Assert.Empty(task.TakeHistory());
    }

    [Fact]
    public void A_retry_starts_a_new_run_at_pending_with_the_outcome_cleared()
    {
        var task = NewTask();
        task.Claim("w1", 0, false, 10, Lease, TokenHash);
        task.Complete(1, Token, null, "time limit", false, 20);
        task.TakeHistory();
        task.Retry(30);
        Assert.Equal(TaskState.Pending, task.State);
        Assert.Equal(1, task.Retries);
        Assert.Null(task.Error);
        Assert.Null(task.FinishedAtMs);
        Assert.Equal(1, task.Attempts);
        var logged = Assert.Single(task.TakeHistory());
        Assert.Equal((TaskState.Pending, 30L, 1, "retried"), (logged.State, logged.AtMs, logged.Attempt, logged.Note));
        Assert.Null(logged.WorkerId);

        // The retried run is attempt 2; a message of the first run can neither claim nor finish it.
        Assert.Equal(StartDecision.SkipSuperseded, task.Claim("w2", 0, false, 40, Lease, TokenHash));
        Assert.Equal(StartDecision.Proceed, task.Claim("w2", 1, false, 50, Lease, TokenHash));
        Assert.Equal(2, task.Attempts);
        Assert.Equal(StartDecision.SkipSuperseded, task.Claim("w3", 0, redelivered: true, 60, Lease, TokenHash));
        Assert.Equal(StartDecision.SkipSuperseded, task.ClaimAndComplete("w3", 0, true, 70, TimeSpan.Zero, new LcsResult { Length = 1 }, null, null));
        Assert.False(task.Complete(1, Token, new LcsResult { Length = 1 }, null, false, 80));
        Assert.Equal(TaskState.Running, task.State);
        Assert.Equal("w2", task.WorkerId);
    }

    [Fact]
    public void Only_failed_and_cancelled_tasks_can_be_retried()
    {
        var succeeded = NewTask();
        succeeded.Claim("w1", 0, false, 10, Lease, TokenHash);
        succeeded.Complete(1, Token, new LcsResult { Length = 1 }, null, false, 20);
        var cancelled = NewTask();
        cancelled.RequestCancel(10);
        cancelled.Retry(20);
        Assert.Equal(TaskState.Pending, cancelled.State);
        foreach (var task in new[] { NewTask(), succeeded, cancelled })
        {
            var rejection = Assert.Throws<TaskRejection>(() => task.Retry(30));
            Assert.Equal(RejectionKind.FailedPrecondition, rejection.Kind);
            Assert.Contains("only FAILED or CANCELLED", rejection.Message);
        }
    }
}
