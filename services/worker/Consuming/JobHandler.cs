using CeleryKube.Protos;
using CeleryKube.Messaging;
using System.Diagnostics;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;
using CeleryKube.Worker.Execution;
using CeleryKube.Worker.Options;
using CeleryKube.Worker.Sink;
using CeleryKube.Worker.State;
using Google.Protobuf;
using Grpc.Core;

namespace CeleryKube.Worker.Consuming;

/// <summary>
/// Handles one delivery end to end, and acknowledges only once the outcome is recorded (acks-late),
/// so a worker that dies mid-job loses nothing. A job runs as soon as it arrives: when it ends
/// within <see cref="WorkerOptions.FinishWindow"/> (most small jobs end in microseconds), its claim
/// and outcome go to ResultSink in one FinishTask call; a job still running then is claimed with
/// StartTask and goes on the full path (lease, progress, CompleteTask). With no window it is claimed
/// before it runs, and so is a job whose texts stayed in the store (too large for a message): it
/// reads them from task-service once it holds the claim.
/// </summary>
public sealed class JobHandler(WorkerOptions settings, WorkerState state, WorkerMetrics metrics, ResultSinkClient sink,
    SinkRetryBudgets budgets, ILogger<JobHandler> logger)
{
    /// <summary>Processes <paramref name="delivery"/>; <paramref name="abandon"/> fires when shutdown gives up on running jobs.</summary>
    public async Task HandleAsync(Delivery delivery, CancellationToken abandon)
    {
        if (!TryParse(delivery.Body, out var job, out var problem))
        {
            logger.LogWarning("rejecting an unparseable job message into lcs.dead: {Problem}", problem);
            await delivery.Settle(DeliveryVerdict.DeadLetter);
            return;
        }

        using var activity = Telemetry.ActivitySource.StartActivity($"{settings.QueueName} process", ActivityKind.Consumer, delivery.Parent);
        activity?.SetTag("celerykube.task_id", job.TaskId);
        activity?.SetTag("messaging.destination.name", settings.QueueName);
        activity?.SetTag("messaging.rabbitmq.delivery_count", delivery.DeliveryCount);

        var progress = new ResultSinkProgress(sink, logger);
        var clock = Stopwatch.StartNew();
        Task<JobOutcome>? run = null;
        if (settings.FinishWindow > TimeSpan.Zero && !job.InputInStore)
        {
            metrics.Started();
            run = LcsJobExecutor.RunAsync(job, settings.TimeLimit, progress, abandon, settings.CoresPerJob);
            if (await EndsWithinAsync(run, settings.FinishWindow, abandon))
            {
                await FinishAsync(job, await run, clock.Elapsed, delivery, activity, abandon);
                return;
            }
        }

        var start = await ClaimAsync(job, delivery, abandon);
        if (start is null || start.Decision != StartDecision.Proceed)
        {
            if (start is not null) await SkipAsync(job, start.Decision, delivery, activity);
            if (run is not null)
            {
                progress.Stop("the task was not claimed");
                metrics.Finished(await run, clock.Elapsed);
            }
            return;
        }

        var running = new RunningTask(job.TaskId, start.Attempt, job.Algorithm, Length(job.TextALength, job.TextA), Length(job.TextBLength, job.TextB),
            DateTimeOffset.UtcNow, delivery.DeliveryCount) { ClaimToken = start.ClaimToken };
        state.Add(running);
        try
        {
            progress.Attach(running);
            if (run is null)
            {
                if (job.InputInStore && !await ReadInputAsync(job, running, delivery, activity, abandon)) return;
                metrics.Started();
                run = LcsJobExecutor.RunAsync(job, settings.TimeLimit, progress, abandon, settings.CoresPerJob);
            }
            logger.LogInformation("task {TaskId} attempt {Attempt}: running {Algorithm} on {LengthA} x {LengthB} code points{Source}",
                job.TaskId, running.Attempt, job.Algorithm, running.TextALength, running.TextBLength, job.InputInStore ? " (input read from the store)" : "");
            await ReportAsync(job, running, await run, clock.Elapsed, delivery, activity, abandon);
        }
        finally
        {
            state.Remove(job.TaskId);
        }
    }

    private static async Task<bool> EndsWithinAsync(Task run, TimeSpan window, CancellationToken abandon)
    {
        try
        {
            await run.WaitAsync(window, abandon);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            // The run sees the same token and ends Abandoned; the finish path requeues it.
            await run;
            return true;
        }
    }

    /// <summary>A run that ended within the window: claim and outcome in one call, then settle.</summary>
    private async Task FinishAsync(LcsJob job, JobOutcome outcome, TimeSpan runTime, Delivery delivery, Activity? activity, CancellationToken abandon)
    {
        metrics.Finished(outcome, runTime);
        activity?.SetTag("celerykube.outcome", outcome.Label);
        if (outcome is JobOutcome.Abandoned)
        {
            metrics.Requeued();
            await delivery.Settle(DeliveryVerdict.Return);
            return;
        }
        var request = new FinishTaskRequest
        {
            TaskId = job.TaskId,
            WorkerId = settings.Id,
            Redelivered = delivery.Redelivered,
            Retries = job.Retries,
            RunTime = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(runTime),
            // One per run, sent with every try: a retry after a lost answer is then known as this call.
            ClaimToken = ClaimToken.New(),
        };
        switch (outcome)
        {
            case JobOutcome.Succeeded s: request.Result = s.Result; break;
            case JobOutcome.Failed f: request.Error = f.Reason; break;
            default: throw new InvalidOperationException($"a run nobody claimed cannot end {outcome.Label}");
        }
        FinishTaskResponse response;
        try
        {
            response = await SinkRetry.RunAsync(ct => sink.FinishTaskAsync(request, ct), budgets.Complete, $"FinishTask for task {job.TaskId}", logger, abandon);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            logger.LogWarning("task {TaskId}: ResultSink refused the job ({Detail}); dead-lettering it", job.TaskId, ex.Status.Detail);
            await delivery.Settle(DeliveryVerdict.DeadLetter);
            return;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            logger.LogError("task {TaskId}: could not record the outcome within {Budget:c} ({Error}); returned to the queue",
                job.TaskId, budgets.Complete, SinkRetry.Describe(ex));
            metrics.Requeued();
            await delivery.Settle(DeliveryVerdict.Return);
            return;
        }
        if (response.Decision != StartDecision.Proceed)
        {
            await SkipAsync(job, response.Decision, delivery, activity);
            return;
        }
        state.Count(outcome);
        await delivery.Settle(DeliveryVerdict.Ack);
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("task {TaskId} attempt {Attempt}: {Outcome} in {Seconds:0.######} s{Detail}, claimed and recorded in one call (stored state {State})",
                job.TaskId, response.Attempt, outcome.Label, runTime.TotalSeconds, Detail(outcome), response.State);
    }

    private async Task SkipAsync(LcsJob job, StartDecision decision, Delivery delivery, Activity? activity)
    {
        logger.LogInformation("task {TaskId}: skipped ({Decision})", job.TaskId, decision);
        activity?.SetTag("celerykube.decision", decision.ToString());
        state.CountSkipped();
        await delivery.Settle(DeliveryVerdict.Ack);
    }

    private async Task ReportAsync(LcsJob job, RunningTask running, JobOutcome outcome, TimeSpan runTime, Delivery delivery, Activity? activity,
        CancellationToken abandon)
    {
        metrics.Finished(outcome, runTime);
        activity?.SetTag("celerykube.outcome", outcome.Label);

        if (outcome is JobOutcome.Abandoned)
        {
            logger.LogWarning("task {TaskId} attempt {Attempt}: abandoned at shutdown; returned to the queue", job.TaskId, running.Attempt);
            metrics.Requeued();
            await delivery.Settle(DeliveryVerdict.Return);
            return;
        }

        try
        {
            var response = await SinkRetry.RunAsync(ct => sink.CompleteTaskAsync(CompleteRequest(running, outcome), ct),
                budgets.Complete, $"CompleteTask for task {job.TaskId}", logger, abandon);
            state.Count(outcome);
            await delivery.Settle(DeliveryVerdict.Ack);
            logger.LogInformation("task {TaskId} attempt {Attempt}: {Outcome} in {Seconds:0.###} s{Detail} (stored state {State}{Late})",
                job.TaskId, running.Attempt, outcome.Label, runTime.TotalSeconds, Detail(outcome), response.State,
                response.Applied ? "" : ", report was late or duplicate");
        }
        catch (Exception ex)
        {
            await GiveBackAsync("record the outcome", job, running, budgets.Complete, ex, delivery, activity);
        }
    }

    /// <summary>task-service stayed out of reach for a claimed job: it goes back to the queue without blame.</summary>
    private async Task GiveBackAsync(string what, LcsJob job, RunningTask running, TimeSpan budget, Exception ex, Delivery delivery, Activity? activity)
    {
        activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
        logger.LogError("task {TaskId} attempt {Attempt}: could not {What} within {Budget:c} ({Error}); returned to the queue",
            job.TaskId, running.Attempt, what, budget, SinkRetry.Describe(ex));
        metrics.Requeued();
        await delivery.Settle(DeliveryVerdict.Return);
    }

    /// <summary>
    /// Fetches the texts of a claimed job from the store; false when the delivery was settled instead:
    /// acked when the attempt may no longer run (cancelled, taken over), given back when task-service
    /// stayed out of reach (the lease then lapses and the reaper requeues the task).
    /// </summary>
    private async Task<bool> ReadInputAsync(LcsJob job, RunningTask running, Delivery delivery, Activity? activity, CancellationToken abandon)
    {
        try
        {
            await SinkRetry.RunAsync(ct => sink.ReadInputAsync(job, running.Attempt, running.ClaimToken, ct), budgets.Start,
                $"ReadTaskInput for task {job.TaskId}", logger, abandon);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.PermissionDenied)
        {
            logger.LogInformation("task {TaskId} attempt {Attempt}: its input cannot be read any more ({Detail}); skipped",
                job.TaskId, running.Attempt, ex.Status.Detail);
            state.CountSkipped();
            await delivery.Settle(DeliveryVerdict.Ack);
            return false;
        }
        catch (Exception ex)
        {
            await GiveBackAsync("read its input", job, running, budgets.Start, ex, delivery, activity);
            return false;
        }
        var (lengthA, lengthB) = (CodePoints.Count(job.TextA), CodePoints.Count(job.TextB));
        if (lengthA == job.TextALength && lengthB == job.TextBLength) return true;
        // Never compute on a damaged input: the task fails with the reason.
        await ReportAsync(job, running, new JobOutcome.Failed(
            $"the input read from task-service has {lengthA} and {lengthB} code points; the job message says {job.TextALength} and {job.TextBLength}"),
            TimeSpan.Zero, delivery, activity, abandon);
        return false;
    }

    /// <summary>The message's code-point length of a text; counted only for a message from before lengths were carried.</summary>
    private static int Length(int carried, string text) => carried > 0 ? carried : CodePoints.Count(text);

    /// <summary>StartTask with retries; null when the delivery was already settled because no claim was possible.</summary>
    private async Task<StartTaskResponse?> ClaimAsync(LcsJob job, Delivery delivery, CancellationToken abandon)
    {
        var request = new StartTaskRequest
        {
            TaskId = job.TaskId,
            WorkerId = settings.Id,
            Redelivered = delivery.Redelivered,
            Retries = job.Retries,
            // One per claim, sent with every try: a retry after a lost answer is then known as this call.
            ClaimToken = ClaimToken.New(),
        };
        try
        {
            return await SinkRetry.RunAsync(ct => sink.StartTaskAsync(request, ct), budgets.Start, $"StartTask for task {job.TaskId}", logger, abandon);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            logger.LogWarning("task {TaskId}: ResultSink refused the job ({Detail}); dead-lettering it", job.TaskId, ex.Status.Detail);
            await delivery.Settle(DeliveryVerdict.DeadLetter);
            return null;
        }
        catch (Exception ex)
        {
            logger.LogError("task {TaskId}: could not claim it within {Budget:c} ({Error}); returned to the queue",
                job.TaskId, budgets.Start, SinkRetry.Describe(ex));
            metrics.Requeued();
            if (!abandon.IsCancellationRequested)
            {
                try { await Task.Delay(budgets.RequeuePause, abandon); } catch (OperationCanceledException) { }
            }
            // task-service being away is not the message's fault: its delivery limit stays unspent.
            await delivery.Settle(DeliveryVerdict.Return);
            return null;
        }
    }

    /// <summary>The CompleteTask request for an outcome (never called for <see cref="JobOutcome.Abandoned"/>).</summary>
    public static CompleteTaskRequest CompleteRequest(RunningTask running, JobOutcome outcome)
    {
        var request = new CompleteTaskRequest { TaskId = running.TaskId, Attempt = running.Attempt, ClaimToken = running.ClaimToken };
        switch (outcome)
        {
            case JobOutcome.Succeeded s: request.Result = s.Result; break;
            case JobOutcome.Failed f: request.Error = f.Reason; break;
            case JobOutcome.Cancelled: request.Cancelled = true; break;
            default: throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "only finished outcomes are reported");
        }
        return request;
    }

    private static string Detail(JobOutcome outcome) => outcome switch
    {
        JobOutcome.Succeeded s => $", length {s.Result.Length}",
        JobOutcome.Failed f => $": {f.Reason}",
        JobOutcome.Cancelled c => $": {c.Reason}",
        _ => "",
    };

    /// <summary>Parses a job body; a body without a task id is as useless as an unparseable one.</summary>
    public static bool TryParse(byte[] body, out LcsJob job, out string problem)
    {
        try
        {
            job = LcsJob.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException ex)
        {
            job = new LcsJob();
            problem = ex.Message;
            return false;
        }
        problem = string.IsNullOrWhiteSpace(job.TaskId) ? "the message has no task_id" : "";
        return problem.Length == 0;
    }
}
