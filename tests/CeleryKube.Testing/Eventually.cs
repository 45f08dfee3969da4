namespace CeleryKube.Testing;

/// <summary>Polling with a deadline instead of sleeping and hoping.</summary>
public static class Eventually
{
    /// <summary>
    /// Calls <paramref name="probe"/> until it returns a non-null value, or fails with
    /// <paramref name="what"/> and the last value seen once <paramref name="timeout"/> has passed.
    /// </summary>
    public static async Task<T> Until<T>(Func<Task<T?>> probe, TimeSpan timeout, string what) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            try
            {
                var value = await probe();
                if (value is not null) return value;
            }
            catch (Exception ex)
            {
                last = ex;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"gave up after {timeout.TotalSeconds:0.#} s waiting for {what}" + (last is null ? "" : $"; last error: {last.Message}"), last);
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    public static Task True(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        Until<object>(async () => await condition() ? new object() : null, timeout, what);
}
