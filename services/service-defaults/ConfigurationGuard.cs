using Microsoft.Extensions.Options;

namespace CeleryKube.ServiceDefaults;

/// <summary>Turns a bad setting into one readable line per problem and exit code 2, not a stack trace.</summary>
public static class ConfigurationGuard
{
    /// <summary>Exit code of a process that refused its configuration.</summary>
    public const int InvalidConfigurationExitCode = 2;

    /// <summary>Runs <paramref name="run"/>; on invalid options prints what to fix and returns 2.</summary>
    public static async Task<int> RunAsync(string serviceName, Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"{serviceName}: invalid configuration:\n  {string.Join("\n  ", ex.Failures.DefaultIfEmpty(ex.Message))}");
            return InvalidConfigurationExitCode;
        }
    }
}
