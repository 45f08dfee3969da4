using System.Diagnostics;
using System.Text.RegularExpressions;
using CeleryKube.Testing;

namespace CeleryKube.Soak.Tests;

/// <summary>
/// A program that started servers through CeleryKube.Testing (a test host, a benchmark) and is
/// asked to stop with a signal stops them too. Since .NET 10 a SIGTERM no longer runs a
/// program's exit hooks by itself, so a benchmark stopped that way left RabbitMQ and the services running.
/// </summary>
public sealed partial class SignalledStopTests
{
    [Fact]
    public async Task A_benchmark_stopped_with_SIGTERM_stops_the_RabbitMQ_node_and_the_task_service_it_started_and_removes_its_folder()
    {
        var folder = RepoPaths.NewTempFolder("bench-stop");
        var dll = Path.Combine(RepoPaths.Root, "bench", "CeleryKube.Bench.Pipeline", "bin", RepoPaths.Configuration, "net10.0",
            "CeleryKube.Bench.Pipeline.dll");
        await using var bench = new ServiceProcess("bench", dll, folder, new Dictionary<string, string>(), "--skip-large", "--out", folder);
        await bench.StartAsync("stack up:", TimeSpan.FromSeconds(120));
        var started = StackLine().Match(bench.Output);
        Assert.True(started.Success, "the benchmark did not say which servers it started:\n" + bench.Output);
        int[] servers = [int.Parse(started.Groups[1].Value), int.Parse(started.Groups[2].Value)];
        var stackFolder = started.Groups[3].Value;
        var rabbitEnvironment = File.ReadAllText($"/proc/{servers[1]}/environ").Split('\0');
        string Variable(string name) => rabbitEnvironment.Single(v => v.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
        var epmdPort = int.Parse(Variable("ERL_EPMD_PORT"));
        // scripts/rabbitmq gives each node a private HOME inside the node's folder.
        var rabbitFolder = Path.GetDirectoryName(Variable("HOME"))!;
        try
        {
            var exitCode = await bench.StopAsync(TimeSpan.FromSeconds(90));

            Assert.Equal(128 + 15, exitCode);
            await Eventually.True(() => Task.FromResult(servers.All(pid => !ProcStatus.IsRunning(pid))), TimeSpan.FromSeconds(30),
                "task-service and RabbitMQ to stop with the benchmark that started them");
            // The node's private epmd goes with it.
            await Eventually.True(async () => !await ListensAsync(epmdPort), TimeSpan.FromSeconds(30), $"epmd on port {epmdPort} to stop");
            // So do its stack's and its node's folders: the program has exited, so nothing can still be removing them.
            Assert.False(Directory.Exists(stackFolder), $"the benchmark left its stack's folder {stackFolder} behind");
            Assert.False(Directory.Exists(rabbitFolder), $"the benchmark left its RabbitMQ node's folder {rabbitFolder} behind");
        }
        finally
        {
            RepoPaths.DeleteTempFolder(folder);
            // Whatever the benchmark left behind: the servers it named, and its workers, which run in its stack's folder.
            foreach (var pid in servers.Concat(RunningIn(stackFolder)).Distinct().Where(ProcStatus.IsRunning))
            {
                try { Process.GetProcessById(pid).Kill(entireProcessTree: true); } catch (ArgumentException) { } catch (InvalidOperationException) { }
            }
        }
    }

    private static async Task<bool> ListensAsync(int port)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static IEnumerable<int> RunningIn(string folder)
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            string? cwd = null;
            try { cwd = new DirectoryInfo(Path.Combine(proc, "cwd")).LinkTarget; } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (cwd is not null && cwd.StartsWith(folder, StringComparison.Ordinal) && int.TryParse(Path.GetFileName(proc), out var pid)) yield return pid;
        }
    }

    [GeneratedRegex(@"stack up: task-service \S+ \(pid (\d+)\), RabbitMQ pid (\d+), folder (\S+)")]
    private static partial Regex StackLine();
}
