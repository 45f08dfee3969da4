using System.Diagnostics;
using CeleryKube.Protos;
using CeleryKube.Protos.V1;
using CeleryKube.Testing;
using Xunit.Abstractions;

namespace CeleryKube.ScaleOut.Tests;

/// <summary>
/// Two task-service replicas on one PostgreSQL database, as real processes behind a loopback
/// balancer (what a Kubernetes Service does), started at the same moment on an empty database (both
/// apply migrations at start): every RPC answers the same on either replica.
/// </summary>
[Collection(SharedServers.Name)]
public sealed class TaskServiceReplicaTests(ReplicaStack fixture, ITestOutputHelper output) : IClassFixture<ReplicaStack>
{
    private CeleryKubeStack Stack => fixture.Stack;

    [Fact]
    public async Task WatchTasks_on_one_replica_streams_every_change_committed_through_the_other_in_lifecycle_order()
    {
        var (first, second) = (Stack.Replicas[0], Stack.Replicas[1]);
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var watch = second.Tasks.WatchTasks(new WatchTasksRequest(), cancellationToken: watching.Token);
        // The stream is open once its headers arrive; submits after that must all be seen.
        await watch.ResponseHeadersAsync;

        var ids = new HashSet<string>();
        for (var n = 0; n < 40; n++)
            ids.Add((await first.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = $"watched {n} text", TextB = $"text {n} watched" })).Task.Id);

        var seen = ids.ToDictionary(id => id, _ => new List<TaskState>());
        while (seen.Values.Any(states => states.Count == 0 || !states[^1].IsFinal()))
        {
            Assert.True(await watch.ResponseStream.MoveNext(watching.Token), "the watch ended before every task finished");
            var change = watch.ResponseStream.Current;
            if (seen.TryGetValue(change.Task.Id, out var states)) states.Add(change.Task.State);
        }

        output.WriteLine($"{seen.Values.Sum(s => s.Count)} events for {ids.Count} tasks submitted through the other replica");
        foreach (var (id, states) in seen)
        {
            // Lifecycle order: a later event never shows an earlier state; the last one is SUCCEEDED.
            var ranks = states.Select(Rank).ToList();
            Assert.True(ranks.SequenceEqual(ranks.Order()), $"{id}: states out of order: {string.Join(" → ", states)}");
            Assert.Equal(TaskState.Succeeded, states[^1]);
        }
    }

    [Fact]
    public async Task The_same_idempotency_key_sent_to_both_replicas_at_once_makes_one_task()
    {
        var (first, second) = (Stack.Replicas[0], Stack.Replicas[1]);
        var before = await CountTasksAsync(second);
        for (var n = 0; n < 25; n++)
        {
            var request = new SubmitLcsRequest { TextA = $"raced {n} text", TextB = $"text {n} raced", IdempotencyKey = $"race-{Guid.NewGuid():N}" };
            var answers = await Task.WhenAll(first.Tasks.SubmitLcsAsync(request).ResponseAsync, second.Tasks.SubmitLcsAsync(request).ResponseAsync);
            Assert.Equal(answers[0].Task.Id, answers[1].Task.Id);
        }
        Assert.Equal(before + 25, await CountTasksAsync(first));
    }

    [Fact]
    public async Task Both_replicas_report_the_same_workers_and_task_counts()
    {
        var (first, second) = (Stack.Replicas[0], Stack.Replicas[1]);
        var expected = Stack.Workers.Select(w => w.Environment["Worker__Id"]).Order().ToList();
        foreach (var replica in new[] { first, second })
        {
            await Eventually.True(async () =>
            {
                var status = await replica.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest());
                return status.Workers.Select(w => w.WorkerId).Order().SequenceEqual(expected);
            }, TimeSpan.FromSeconds(30), $"{replica.Process.Name} to list every worker ({string.Join(", ", expected)})");
        }

        var id = (await first.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "counted text", TextB = "text counted" })).Task.Id;
        await Stack.WaitForFinalAsync(id);
        var counts = await Task.WhenAll(first.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest()).ResponseAsync,
            second.Tasks.GetClusterStatusAsync(new GetClusterStatusRequest()).ResponseAsync);
        Assert.Equal(counts[0].StateCounts.ToString(), counts[1].StateCounts.ToString());
        Assert.Contains(counts[1].StateCounts, c => c.State == TaskState.Succeeded && c.Count > 0);
    }

    private static async Task<int> CountTasksAsync(TaskServiceReplica replica) =>
        (await replica.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1000 })).Tasks.Count;

    private static int Rank(TaskState state) => state switch
    {
        TaskState.Pending => 0,
        TaskState.Running => 1,
        _ => 2,
    };
}

/// <summary>Killing a replica under load (its own stack: the drill leaves one replica dead).</summary>
[Collection(SharedServers.Name)]
public sealed class TaskServiceReplicaKillTests(PostgresDatabase<TaskServiceReplicaKillTests> database, ITestOutputHelper output)
    : IClassFixture<PostgresDatabase<TaskServiceReplicaKillTests>>
{
    [Fact]
    public async Task SIGKILL_of_a_replica_under_load_loses_nothing_and_the_survivor_finishes_every_accepted_task_once()
    {
        await using var stack = await CeleryKubeStack.StartAsync(ReplicaStack.Options(database.ConnectionString));
        var load = new KeyedLoad(stack.Tasks, "replica-drill", TimeSpan.FromMilliseconds(20));
        using var stopLoad = new CancellationTokenSource();
        var loading = Task.Run(() => load.RunAsync(stopLoad.Token));
        await load.WaitForAcceptedAsync(60, TimeSpan.FromSeconds(60));

        // No restart: the survivor alone must pick up the dead replica's outbox claims and
        // leases, and the workers' reports must find their way to it.
        var victim = stack.Replicas[1];
        await victim.Process.KillAsync();
        var acceptedAtKill = load.Accepted.Count;
        var clock = Stopwatch.StartNew();
        await load.WaitForAcceptedAsync(acceptedAtKill + 60, TimeSpan.FromSeconds(60));
        await stopLoad.CancelAsync();
        await loading;
        output.WriteLine($"killed {victim.Process.Name} after {acceptedAtKill} accepted tasks; 60 more accepted in {clock.Elapsed.TotalSeconds:0.0} s; " +
                         $"{load.Accepted.Count} accepted in all, {load.Refused} submits refused and retried with the same key");

        var problems = await load.FindProblemsAsync(stack, TimeSpan.FromSeconds(120));
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)) + "\n" + stack.Logs());
    }
}

/// <summary>Class fixture: two replicas on a fresh PostgreSQL database and a private broker, two small workers.</summary>
public sealed class ReplicaStack : IAsyncLifetime
{
    private readonly PostgresDatabase<ReplicaStack> database = new();

    /// <summary>The running stack.</summary>
    public CeleryKubeStack Stack { get; private set; } = null!;

    /// <summary>Two replicas on <paramref name="connectionString"/>, two small workers.</summary>
    public static StackOptions Options(string connectionString) => new()
    {
        Postgres = connectionString,
        TaskServiceReplicas = 2,
        Workers = [("small", 2), ("small", 2)],
    };

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        Stack = await CeleryKubeStack.StartAsync(Options(database.ConnectionString));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (Stack is not null) await Stack.DisposeAsync();
        await database.DisposeAsync();
    }
}
