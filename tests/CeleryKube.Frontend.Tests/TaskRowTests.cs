using CeleryKube.Protos;
using CeleryKube.Frontend.Services;
using CeleryKube.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace CeleryKube.Frontend.Tests;

public sealed class TaskRowTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 25, 14, 3, 7, TimeSpan.Zero);

    private static LcsTask Task(string substring) => new()
    {
        Id = "3f2b8c1e-0000-4000-8000-000000000000",
        State = TaskState.Succeeded,
        Queue = TaskQueue.Small,
        TextALength = 1200,
        TextBLength = 7,
        CreateTime = Timestamp.FromDateTimeOffset(Created),
        Result = new LcsResult { Length = CodePoints.Count(substring), Substring = substring },
    };

    [Fact]
    public void Shows_the_substring_shortened_by_code_points_with_its_length_and_a_dated_creation_time()
    {
        var row = TaskRow.From(Task(new string('\u00e9', 30) + string.Concat(Enumerable.Repeat("\U0001F600", 20))), Created);
        Assert.Equal(new string('\u00e9', 30) + string.Concat(Enumerable.Repeat("\U0001F600", 10)) + "\u2026", row.Match);
        Assert.Equal("50", row.MatchLength);
        Assert.Equal("2026-11-25 14:03:07", row.Created);
        Assert.Equal("1,200 \u00d7 7", row.Lengths);
        Assert.True(row.Finished);
    }

    [Fact]
    public void A_short_substring_is_shown_whole_and_no_result_shows_a_dash()
    {
        Assert.Equal("needle", TaskRow.From(Task("needle"), Created).Match);
        var pending = Task("x");
        pending.State = TaskState.Pending;
        pending.Result = null;
        var row = TaskRow.From(pending, Created);
        Assert.Equal("", row.Match);
        Assert.Equal("\u2014", row.MatchLength);
        Assert.False(row.Finished);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData(TaskDisplay.FormKeyPrefix + "0b9a", null)]
    [InlineData("order-77", "order-77")]
    public void Shows_an_idempotency_key_only_when_someone_chose_it(string key, string? shown) =>
        Assert.Equal(shown, new LcsTask { IdempotencyKey = key }.ChosenIdempotencyKey());
}
