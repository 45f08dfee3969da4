using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace CeleryKube.Testing;

/// <summary>
/// One CeleryKube service run as a real process (<c>dotnet X.dll</c>) with its own environment and
/// working folder. Its output goes to a log file and can be awaited line by line.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly string dll;
    private readonly string workingFolder;
    private readonly string[] arguments;
    private readonly StringBuilder output = new();
    private StreamWriter? log;
    private bool disposed;
    private Process? process;

    /// <summary>Creates (does not start) a service process; <paramref name="arguments"/> follow the dll on its command line.</summary>
    public ServiceProcess(string name, string dll, string workingFolder, IDictionary<string, string> environment, params string[] arguments)
    {
        Name = name;
        this.dll = dll;
        this.arguments = arguments;
        this.workingFolder = workingFolder;
        Environment = new Dictionary<string, string>(environment);
        LogFile = Path.Combine(workingFolder, name + ".log");
        Directory.CreateDirectory(workingFolder);
    }

    /// <summary>A name for logs and messages.</summary>
    public string Name { get; }

    /// <summary>Environment variables given to the process (change them before a restart if needed).</summary>
    public Dictionary<string, string> Environment { get; }

    /// <summary>Where its stdout and stderr go.</summary>
    public string LogFile { get; }

    /// <summary>The OS process id while running.</summary>
    public int Pid => process?.Id ?? 0;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => process is { HasExited: false };

    /// <summary>Everything it printed so far (across restarts).</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    /// <summary>Starts the process; with <paramref name="readyLine"/>, waits until it prints it.</summary>
    public async Task StartAsync(string? readyLine, TimeSpan? timeout = null)
    {
        if (IsRunning) throw new InvalidOperationException($"{Name} is already running");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in Environment) info.Environment[key] = value;
        var started = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Name}");
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        process = started;
        var pid = started.Id;
        ProcessJanitor.OnExit(() => { try { Process.GetProcessById(pid).Kill(true); } catch (ArgumentException) { } });
        if (readyLine is not null) await WaitForOutputAsync(readyLine, timeout ?? TimeSpan.FromSeconds(60), since: 0);
    }

    /// <summary>Length of <see cref="Output"/> now; pass it as <c>since</c> to wait only for new lines.</summary>
    public int OutputMark
    {
        get { lock (output) return output.Length; }
    }

    /// <summary>Waits until the output after <paramref name="since"/> contains <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout, int since = 0) =>
        Eventually.True(() =>
        {
            if (process is { HasExited: true })
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} before printing '{text}'. Output:\n{Tail()}");
            lock (output) return Task.FromResult(output.ToString(since, output.Length - since).Contains(text, StringComparison.Ordinal));
        }, timeout, $"{Name} to print '{text}'. Output so far:\n{Tail()}");

    /// <summary>SIGKILL: the process dies at once, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (process is null || process.HasExited) return;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then waits up to <paramref name="grace"/> before SIGKILL. Returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? grace = null)
    {
        if (process is null) return 0;
        if (!process.HasExited)
        {
            _ = SendSignal(process.Id, 15);
            using var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        return process.ExitCode;
    }

    /// <summary>The last lines it printed, for failure messages.</summary>
    public string Tail(int lines = 40)
    {
        var all = Output.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        process?.Dispose();
        lock (output)
        {
            disposed = true;
            log?.Dispose();
            log = null;
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (output)
        {
            output.Append(line).Append('\n');
            if (disposed) return;
            // One open file for the process's life (and its restarts): services that print a line per
            // task would otherwise pay an open and a close per line in the test process.
            log ??= new StreamWriter(new FileStream(LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
            log.Write(line);
            log.Write('\n');
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
