namespace CeleryKube.Lcs;

/// <summary>
/// Large working arrays kept for the next call. On a fresh 80 MB array the page faults alone cost about a
/// quarter of a second on the VMs we run on, and the runtime also zeroes it; a worker running job after job
/// reuses the arrays instead. Small arrays are plain allocations, so the small-task path never touches the pool.
/// Arrays come back uninitialised and may be longer than asked for.
/// </summary>
internal static class WorkArrays
{
    /// <summary>Shorter arrays are allocated normally; reusing them would save nothing measurable.</summary>
    public const int PooledMinLength = 1 << 16;

    // Enough for two jobs at once (each holds at most two large int arrays and one text) with a spare.
    private const int MaxKeptPerType = 6;

    public static T[] Rent<T>(int length)
        where T : unmanaged
    {
        if (length < PooledMinLength)
        {
            return new T[length];
        }

        return Kept<T>.Take(length) ?? GC.AllocateUninitializedArray<T>(length, pinned: true);
    }

    public static void Return<T>(T[] array)
        where T : unmanaged
    {
        if (array.Length >= PooledMinLength)
        {
            Kept<T>.Put(array);
        }
    }

    /// <summary>Test hook: forgets every kept array, so the next call allocates afresh (memory measurements).</summary>
    public static void Clear()
    {
        Kept<byte>.Clear();
        Kept<ushort>.Clear();
        Kept<int>.Clear();
        Kept<ulong>.Clear();
    }

    private static class Kept<T>
        where T : unmanaged
    {
        private static readonly List<T[]> Arrays = [];

        /// <summary>The shortest kept array that is long enough, so one large job's arrays serve small jobs last.</summary>
        public static T[]? Take(int length)
        {
            lock (Arrays)
            {
                int best = -1;
                for (int i = 0; i < Arrays.Count; i++)
                {
                    if (Arrays[i].Length >= length && (best < 0 || Arrays[i].Length < Arrays[best].Length))
                    {
                        best = i;
                    }
                }

                if (best < 0)
                {
                    return null;
                }

                T[] array = Arrays[best];
                Arrays.RemoveAt(best);
                return array;
            }
        }

        public static void Put(T[] array)
        {
            lock (Arrays)
            {
                Arrays.Add(array);
                if (Arrays.Count > MaxKeptPerType)
                {
                    int smallest = 0;
                    for (int i = 1; i < Arrays.Count; i++)
                    {
                        if (Arrays[i].Length < Arrays[smallest].Length)
                        {
                            smallest = i;
                        }
                    }

                    Arrays.RemoveAt(smallest);
                }
            }
        }

        public static void Clear()
        {
            lock (Arrays)
            {
                Arrays.Clear();
            }
        }
    }
}
