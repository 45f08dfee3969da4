using System.Collections.Concurrent;
using CeleryKube.Protos.V1;
using Grpc.Core;

namespace CeleryKube.Testing;

/// <summary>
/// A steady stream of small tasks, each with its own idempotency key and retried with the same key
/// until accepted, so <see cref="Accepted"/> is exactly what the system owes: the load drills'
/// client while brokers or replicas fail underneath.
/// </summary>
public sealed class KeyedLoad(TaskService.TaskServiceClient tasks, string keyPrefix, TimeSpan pause)
{
    private readonly ConcurrentDictionary<string, string> accepted = new();
    private int refused;

    /// <summary>Task id to idempotency key of every accepted task.</summary>
    public IReadOnlyDictionary<string, string> Accepted => accepted;

    /// <summary>Submits refused while something failed, each retried with the same key.</summary>
    public int Refused => refused;

    /// <summary>Submits until <paramref name="stop"/>; the submit in flight then still completes.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var request = new SubmitLcsRequest { TextA = $"drill {n} alpha", TextB = $"beta {n} drill", IdempotencyKey = $"{keyPrefix}-{n}" };
            while (true)
            {
                try
                {
                    var response = await tasks.SubmitLcsAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
                    accepted[response.Task.Id] = request.IdempotencyKey;
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
                {
                    Interlocked.Increment(ref refused);
                    await Task.Delay(200, CancellationToken.None);
                }
            }
            await Task.Delay(pause, CancellationToken.None);
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> tasks were accepted.</summary>
    public Task WaitForAcceptedAsync(int count, TimeSpan timeout) =>
        Eventually.True(() => Task.FromResult(accepted.Count >= count), timeout, $"{count} tasks accepted");

    /// <summary>
    /// After the load: what went wrong, empty when every accepted task SUCCEEDED within
    /// <paramref name="timeout"/> with exactly one applied result, and the store lists exactly the
    /// accepted tasks (none lost, none made twice).
    /// </summary>
    public async Task<IReadOnlyList<string>> FindProblemsAsync(CeleryKubeStack stack, TimeSpan timeout)
    {
        var problems = new List<string>();
        foreach (var id in accepted.Keys)
        {
            var task = await stack.WaitForFinalAsync(id, timeout);
            if (task.State != TaskState.Succeeded) problems.Add($"{id} is {task.State}: {task.Error}");
        }
        var applied = await AppliedResults.CountOnceLoggedAsync(stack.Workers, accepted.Keys, TimeSpan.FromSeconds(10));
        problems.AddRange(accepted.Keys.Where(id => applied.GetValueOrDefault(id) != 1)
            .Select(id => $"{id} had {applied.GetValueOrDefault(id)} applied results"));
        var listed = (await stack.Tasks.ListTasksAsync(new ListTasksRequest { PageSize = 1000 })).Tasks.Select(t => t.Id).ToList();
        problems.AddRange(listed.Where(id => !accepted.ContainsKey(id)).Select(id => $"{id} is stored but was never accepted"));
        problems.AddRange(listed.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => $"{g.Key} is listed {g.Count()} times"));
        problems.AddRange(accepted.Keys.Except(listed).Select(id => $"{id} was accepted but is not listed"));
        return problems;
    }
}
