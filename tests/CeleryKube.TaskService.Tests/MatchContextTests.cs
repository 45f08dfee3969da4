using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Persistence;
using Grpc.Core;
using static CeleryKube.TaskService.Tests.RpcAssert;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// GetTask's TASK_VIEW_MATCH_CONTEXT: the store cuts a window of each text around the match,
/// counting code points as the protos do (astral characters are one each, two UTF-16 units).
/// </summary>
public abstract class MatchContextTests(InProcessTaskService app)
{
    private const string Grin = "\U0001F600";
    private const int Context = MatchWindow.ContextCodePoints;

    /// <summary>A task that SUCCEEDED with the given match, reported as a worker would.</summary>
    private async Task<LcsTask> SucceededAsync(string a, string b, int offsetA, int offsetB, int length)
    {
        var task = await app.SubmitAsync(a, b);
        var claim = await app.Sink.StartTaskAsync(new StartTaskRequest { TaskId = task.Id, WorkerId = "context-worker" }, app.Auth);
        var result = new LcsResult { Length = length, Substring = CodePoints.Slice(a, offsetA, length), OffsetA = offsetA, OffsetB = offsetB };
        Assert.Equal(result.Substring, CodePoints.Slice(b, offsetB, length));
        Assert.True((await app.Sink.CompleteTaskAsync(new CompleteTaskRequest
        {
            TaskId = task.Id, Attempt = claim.Attempt, ClaimToken = claim.ClaimToken, Result = result,
        }, app.Auth)).Applied);
        return (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = task.Id, View = TaskView.MatchContext })).Task;
    }

    /// <summary>The window the proto promises, cut here from the whole text with the one code-point rule.</summary>
    private static TextExcerpt Expected(string text, int offset, int length)
    {
        var start = Math.Max(0, offset - Context);
        return new TextExcerpt
        {
            Start = start,
            Before = CodePoints.Slice(text, start, offset - start),
            Match = CodePoints.Slice(text, offset, Math.Min(length, MatchWindow.MatchCodePoints)),
            After = CodePoints.Slice(text, offset + length, Context),
        };
    }

    [Fact]
    public async Task Windows_count_astral_characters_as_one_code_point_each()
    {
        var match = $"needle{Grin}x\u00e9";
        var a = string.Concat(Enumerable.Repeat($"{Grin}a", 100)) + match + string.Concat(Enumerable.Repeat($"b{Grin}", 100));
        var b = $"{Grin}{Grin}" + match + $"{Grin} tail";
        var task = await SucceededAsync(a, b, offsetA: 200, offsetB: 2, length: 9);

        var context = task.MatchContext;
        Assert.Equal(Expected(a, 200, 9), context.TextA);
        Assert.Equal(80, context.TextA.Start);
        Assert.Equal(Context, CodePoints.Count(context.TextA.Before));
        Assert.Equal(match, context.TextA.Match);
        Assert.Equal(Context, CodePoints.Count(context.TextA.After));
        Assert.StartsWith($"b{Grin}", context.TextA.After);
        Assert.Equal(new TextExcerpt { Start = 0, Before = $"{Grin}{Grin}", Match = match, After = $"{Grin} tail" }, context.TextB);
        // The view carries no texts.
        Assert.Equal("", task.TextA);
        Assert.Equal("", task.TextB);
    }

    [Fact]
    public async Task A_match_at_the_start_of_one_text_and_the_end_of_the_other_has_nothing_on_that_side()
    {
        var match = $"{Grin}edge{Grin}";
        var rest = string.Concat(Enumerable.Repeat($"r{Grin}", 150));
        var task = await SucceededAsync(match + rest, rest + match, offsetA: 0, offsetB: 300, length: 6);

        var context = task.MatchContext;
        Assert.Equal(new TextExcerpt { Start = 0, Before = "", Match = match, After = CodePoints.Slice(rest, 0, Context) }, context.TextA);
        Assert.Equal(new TextExcerpt { Start = 300 - Context, Before = CodePoints.Slice(rest, 300 - Context, Context), Match = match, After = "" }, context.TextB);
    }

    [Fact]
    public async Task A_long_match_is_cut_to_its_start_and_the_text_after_its_end_follows()
    {
        var match = string.Concat(Enumerable.Repeat($"m{Grin}", 400)); // 800 code points
        var a = "A" + match + "after A";
        var b = new string('b', 500) + match + "after B";
        var task = await SucceededAsync(a, b, offsetA: 1, offsetB: 500, length: 800);

        Assert.Equal(Expected(a, 1, 800), task.MatchContext.TextA);
        Assert.Equal(CodePoints.Slice(match, 0, MatchWindow.MatchCodePoints), task.MatchContext.TextA.Match);
        Assert.Equal("after A", task.MatchContext.TextA.After);
        Assert.Equal(Expected(b, 500, 800), task.MatchContext.TextB);
        // The result itself is shortened as in the summary view; its length is whole.
        Assert.Equal(800, task.Result.Length);
        Assert.Equal(TaskSummaries.ResultCodePoints, CodePoints.Count(task.Result.Substring));
    }

    [Fact]
    public async Task Only_a_task_with_a_non_empty_match_has_windows_and_unknown_ids_are_not_found()
    {
        var queued = await app.SubmitAsync("not yet", "run"); // no worker here: it stays PENDING or QUEUED
        var view = (await app.Tasks.GetTaskAsync(new GetTaskRequest { Id = queued.Id, View = TaskView.MatchContext })).Task;
        Assert.NotEqual(TaskState.Succeeded, view.State);
        Assert.Null(view.MatchContext);

        var disjoint = await SucceededAsync("abc", "xyz", offsetA: 0, offsetB: 0, length: 0);
        Assert.Equal(TaskState.Succeeded, disjoint.State);
        Assert.Null(disjoint.MatchContext);

        await Refused(() => app.Tasks.GetTaskAsync(new GetTaskRequest { Id = Guid.NewGuid().ToString(), View = TaskView.MatchContext }).ResponseAsync,
            StatusCode.NotFound);
    }
}

[Collection(InProcessTaskServiceCollection.Name)]
public sealed class SqliteMatchContextTests(SqliteInProcessTaskService app) : MatchContextTests(app);

[Collection(PostgresCollection.Name)]
public sealed class PostgresMatchContextTests(PostgresInProcessTaskService app) : MatchContextTests(app);
