using System.Diagnostics;

namespace CeleryKube.Testing;

/// <summary>Runs a command line tool to its end and keeps what it printed, for the private servers.</summary>
public static class ExternalCommand
{
    /// <summary>Runs <paramref name="file"/> and returns its exit code and its stdout followed by its stderr.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Runs <paramref name="file"/>; a non-zero exit becomes an exception with what it printed.</summary>
    public static async Task<string> RunCheckedAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var argList = args.ToList();
        var (code, output) = await RunAsync(file, argList, environment);
        if (code != 0) throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', argList)} failed ({code}): {output}");
        return output;
    }
}
