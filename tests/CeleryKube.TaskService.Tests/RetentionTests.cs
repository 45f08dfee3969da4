using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Grpc.Core;

namespace CeleryKube.TaskService.Tests;

/// <summary>Finished tasks are swept after their state's retention; others stay. On each store engine.</summary>
public abstract class RetentionTests
{
    /// <summary>The store settings of this engine (none for the default, SQLite).</summary>
    protected abstract IReadOnlyDictionary<string, string> StoreSettings { get; }

    [Fact]
    public async Task Finished_tasks_are_deleted_after_their_retention_and_unfinished_ones_are_kept()
    {
        var settings = new Dictionary<string, string>(StoreSettings)
        {
            ["Retention__Cancelled"] = "00:00:01",
            ["Retention__SweepInterval"] = "00:00:00.200",
        };
        await using var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [], TaskServiceSettings = settings });
        var cancelled = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "old", TextB = "news" })).Task;
        var kept = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "still", TextB = "queued" })).Task;
        await stack.Tasks.CancelTaskAsync(new CancelTaskRequest { Id = cancelled.Id });

        await Eventually.True(async () =>
        {
            try
            {
                await stack.Tasks.GetTaskAsync(new GetTaskRequest { Id = cancelled.Id });
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(20), "the cancelled task to be swept");
        Assert.Equal(TaskState.Queued, (await stack.WaitForTaskAsync(kept.Id, t => t.State == TaskState.Queued, TimeSpan.FromSeconds(20), "QUEUED")).State);
    }
}

public sealed class SqliteRetentionTests : RetentionTests
{
    protected override IReadOnlyDictionary<string, string> StoreSettings => new Dictionary<string, string>();
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresRetentionTests(PostgresDatabase<PostgresRetentionTests> database)
    : RetentionTests, IClassFixture<PostgresDatabase<PostgresRetentionTests>>
{
    protected override IReadOnlyDictionary<string, string> StoreSettings => PostgresTaskStore.Settings(database.ConnectionString);
}
