namespace CeleryKube.Lcs;

/// <summary>Runs two halves of a pass at once: the first on the calling thread, the second on the thread pool.</summary>
internal static class TwoThreads
{
    /// <summary>
    /// Returns only when both halves have finished, also when one throws, because they write into arrays the
    /// caller returns to <see cref="WorkArrays"/> afterwards. The calling thread's exception wins.
    /// </summary>
    public static void Run(Action first, Action second)
    {
        Task other = Task.Run(second);
        try
        {
            first();
        }
        catch
        {
            try
            {
                other.Wait();
            }
            catch (AggregateException)
            {
                // The first half's exception is the one to report.
            }

            throw;
        }

        other.GetAwaiter().GetResult();
    }

    /// <summary>Runs <paramref name="pass"/> over [0, length) in two halves at once, or in one piece.</summary>
    public static void Split(bool parallel, int length, Action<int, int, bool> pass)
    {
        if (!parallel)
        {
            pass(0, length, true);
            return;
        }

        int middle = length / 2;
        Run(() => pass(0, middle, true), () => pass(middle, length, false));
    }
}
