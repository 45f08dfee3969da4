using System.Diagnostics;

namespace CeleryKube.Testing;

/// <summary>
/// A RabbitMQ node of the test's own (scripts/rabbitmq): free ports, a private data folder,
/// stopped on dispose. It can be restarted with its data to test broker outages.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private readonly string folder;

    private PrivateRabbitMq(string folder, int port)
    {
        this.folder = folder;
        Port = port;
    }

    /// <summary>The AMQP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The value for <c>RabbitMq__Uri</c>.</summary>
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <summary>Starts a node and waits until it accepts connections.</summary>
    public static async Task<PrivateRabbitMq> StartAsync()
    {
        var node = new PrivateRabbitMq(RepoPaths.NewTempFolder("rabbit"), FreePorts.Next());
        await node.StartNodeAsync();
        ProcessJanitor.OnExit(() => RunScript("stop", node.folder).Wait(TimeSpan.FromSeconds(30)));
        return node;
    }

    /// <summary>Stops the node (messages on durable queues survive) and starts it again.</summary>
    public async Task RestartAsync()
    {
        await StopNodeAsync();
        await StartNodeAsync();
    }

    /// <summary>Stops the node; <see cref="StartNodeAsync"/> brings it back with its data.</summary>
    public Task StopNodeAsync() => RunScript("stop", folder);

    /// <summary>Starts the node on the same port and data folder.</summary>
    public Task StartNodeAsync() => RunScript("start", folder, Port.ToString());

    /// <summary>Runs rabbitmqctl against the node and returns its output.</summary>
    public async Task<string> CtlAsync(params string[] args)
    {
        var (code, output) = await RunAsync(Path.Combine(RepoPaths.Root, "scripts", "rabbitmq"), ["ctl", folder, .. args]);
        if (code != 0) throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed: {output}");
        return output;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopNodeAsync();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static async Task RunScript(string command, string folder, params string[] more)
    {
        var (code, output) = await RunAsync(Path.Combine(RepoPaths.Root, "scripts", "rabbitmq"), [command, folder, .. more]);
        if (code != 0) throw new InvalidOperationException($"scripts/rabbitmq {command} failed ({code}): {output}");
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
