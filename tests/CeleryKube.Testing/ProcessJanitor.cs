using System.Runtime.InteropServices;

namespace CeleryKube.Testing;

/// <summary>
/// Last-resort clean-up: whatever a test (or a benchmark) started is stopped when its process
/// exits, also when it is asked to stop by a signal. Since .NET 10 the runtime no longer turns
/// SIGTERM into a normal exit: the process just ended, <see cref="AppDomain.ProcessExit"/> never
/// ran, and RabbitMQ nodes, PostgreSQL and the services outlived it. Only SIGKILL is left to
/// <see cref="LeftoverServers"/>.
/// </summary>
public static class ProcessJanitor
{
    private static readonly List<Action> Actions = [];

    // Kept for the life of the process: a collected registration stops handling its signal.
    private static readonly PosixSignalRegistration[] ExitSignals =
    [
        ExitOn(PosixSignal.SIGTERM, 15),
        ExitOn(PosixSignal.SIGINT, 2),
        ExitOn(PosixSignal.SIGHUP, 1),
    ];

    static ProcessJanitor() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        Action[] pending;
        lock (Actions) pending = [.. Actions];
        foreach (var action in pending.Reverse())
        {
            try { action(); } catch (Exception) { /* best effort while exiting */ }
        }
    };

    /// <summary>Runs <paramref name="action"/> when the process exits.</summary>
    public static void OnExit(Action action)
    {
        GC.KeepAlive(ExitSignals);
        lock (Actions) Actions.Add(action);
    }

    // Exits as a shell reports a death by that signal (128 + its number), running ProcessExit.
    private static PosixSignalRegistration ExitOn(PosixSignal signal, int number) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            Environment.Exit(128 + number);
        });
}
