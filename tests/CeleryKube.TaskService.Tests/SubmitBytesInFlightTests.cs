using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace CeleryKube.TaskService.Tests;

/// <summary>
/// Issue 11 §4: large submissions in flight are capped by bytes (Limits__MaxSubmitBytesInFlight);
/// beyond it they are refused with RESOURCE_EXHAUSTED and nothing of them is stored, and a retry
/// once the others are committed is accepted. Through the real task-service on SQLite: the test
/// holds the store's write lock so that admitted submissions stay in flight as long as it wants.
/// </summary>
public sealed class SubmitBytesInFlightTests
{
    private const int TextChars = 500_000;
    // One large submission (two texts of 500,000 UTF-16 units: 2,000,000 bytes) fits, two do not.
    private const long Cap = 3_000_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Large_submissions_beyond_the_cap_are_refused_and_stored_nothing_and_a_retry_afterwards_is_accepted()
    {
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions
        {
            Workers = [],
            TaskServiceSettings = new Dictionary<string, string> { ["Limits__MaxSubmitBytesInFlight"] = Cap.ToString() },
        });
        var large = Enumerable.Range(0, 4).Select(n => new SubmitLcsRequest
        {
            TextA = new string('x', TextChars - 1) + n,
            TextB = new string('y', TextChars - 1) + n,
        }).ToList();

        List<Task<SubmitLcsResponse>> calls;
        Task<SubmitLcsResponse> small;
        await using (var writeLock = new SqliteConnection($"Data Source={Path.Combine(stack.Folder, "tasks.db")};Pooling=False"))
        {
            // Every commit waits behind this transaction: whatever is admitted stays in flight.
            await writeLock.OpenAsync();
            await using (var begin = writeLock.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                await begin.ExecuteNonQueryAsync();
            }
            small = stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "small", TextB = "submissions still pass" },
                deadline: DateTime.UtcNow.Add(Wait)).ResponseAsync;
            calls = large.Select(r => stack.Tasks.SubmitLcsAsync(r, deadline: DateTime.UtcNow.Add(Wait)).ResponseAsync).ToList();
            // Only one large submission fits under the cap; the others are answered while it waits.
            await Eventually.True(() => Task.FromResult(calls.Count(c => c.IsCompleted) == calls.Count - 1), Wait,
                "all large submissions but one to be refused");
            Assert.False(small.IsCompleted, "the small submission should wait for the store like the admitted large one");
        }

        var refused = new List<SubmitLcsRequest>();
        string? acceptedId = null;
        for (var i = 0; i < calls.Count; i++)
        {
            try
            {
                acceptedId = (await calls[i]).Task.Id;
            }
            catch (RpcException ex)
            {
                Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
                Assert.Contains("Limits__MaxSubmitBytesInFlight", ex.Status.Detail);
                Assert.Contains("try again", ex.Status.Detail);
                refused.Add(large[i]);
            }
        }
        Assert.NotNull(acceptedId);
        Assert.Equal(calls.Count - 1, refused.Count);
        var smallTask = (await small).Task;

        // Nothing of the refused ones was stored: only the admitted large one and the small one.
        var stored = await stack.Tasks.ListTasksAsync(new ListTasksRequest { IncludeTotalSize = true });
        Assert.Equal(2, stored.TotalSize);
        Assert.Equal(new[] { acceptedId, smallTask.Id }.Order(), stored.Tasks.Select(t => t.Id).Order());

        // With the others committed, a refused submission goes through when retried.
        var retried = (await stack.Tasks.SubmitLcsAsync(refused[0], deadline: DateTime.UtcNow.Add(Wait))).Task;
        Assert.Equal((TextChars, TextChars), (retried.TextALength, retried.TextBLength));
        Assert.Equal(3, (await stack.Tasks.ListTasksAsync(new ListTasksRequest { IncludeTotalSize = true })).TotalSize);
    }
}
