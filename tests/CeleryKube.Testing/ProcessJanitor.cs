namespace CeleryKube.Testing;

/// <summary>Last-resort clean-up: whatever a test started is stopped when the test host exits.</summary>
public static class ProcessJanitor
{
    private static readonly List<Action> Actions = [];

    static ProcessJanitor() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        Action[] pending;
        lock (Actions) pending = [.. Actions];
        foreach (var action in pending.Reverse())
        {
            try { action(); } catch (Exception) { /* best effort while exiting */ }
        }
    };

    /// <summary>Runs <paramref name="action"/> when the test process exits.</summary>
    public static void OnExit(Action action)
    {
        lock (Actions) Actions.Add(action);
    }
}
