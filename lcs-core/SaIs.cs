using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CeleryKube.Lcs;

/// <summary>
/// Suffix array construction by induced sorting (SA-IS; Nong, Zhang and Chan, 2009), linear time, in the style
/// of libsais (Grebnov): no type array at any level. The induce passes keep "the suffix before this one still
/// has to be induced" in the sign bit of each entry, so they read two neighbouring symbols per suffix and
/// nothing else; they prefetch the symbols a few dozen entries ahead, because on texts far beyond the cache
/// nearly every symbol read is a miss. LMS substrings are named by their lengths and symbols (Mori's sais).
/// The text is generic so the top level can use one or two bytes per symbol when the alphabet fits, which
/// quarters or halves the memory the random reads touch; the reduced problems live inside the suffix array.
/// </summary>
internal static unsafe class SaIs
{
    private const int Negative = int.MinValue;
    /// <summary>Iterations of a hot loop between two polls of the progress meter (cancellation, progress).</summary>
    internal const int PollBlock = 1 << 16;

    /// <summary>How many entries ahead the passes over texts beyond the cache prefetch their random reads.</summary>
    internal const int PrefetchDistance = 32;

    /// <summary>
    /// Fills <paramref name="sa"/> (at least text.Length long) with the suffix array of <paramref name="text"/>;
    /// <paramref name="scratch"/> (as long) is working space whose contents are lost.
    /// Symbols must lie in [0, <paramref name="alphabetSize"/>) and the last symbol must be 0 and occur nowhere else.
    /// </summary>
    public static void Build<T>(ReadOnlySpan<T> text, Span<int> sa, Span<int> scratch, int alphabetSize, ProgressMeter meter, double progressStart, double progressEnd)
        where T : unmanaged, IEquatable<T>
    {
        if (text.Length == 0 || Symbols.At(text, text.Length - 1) != 0)
        {
            throw new ArgumentException("The text must end with a unique 0 sentinel.", nameof(text));
        }

        if (sa.Length < text.Length || scratch.Length < text.Length)
        {
            throw new ArgumentException("The suffix array and the scratch space must be at least as long as the text.", nameof(sa));
        }

        fixed (T* t = text)
        fixed (int* s = sa)
        fixed (int* free = scratch)
        {
            var level = new Level(meter, progressStart, progressEnd);
            Sort(t, s, text.Length, alphabetSize, free, level);
        }
    }

    /// <summary>Progress for the top level; deeper levels only poll (their share is inside the top level's).</summary>
    private readonly struct Level(ProgressMeter meter, double start, double end)
    {
        public ProgressMeter Meter => meter;

        public bool IsTop => end > start;

        public Level Deeper => new(meter, 0, 0);

        public void Mark(double share)
        {
            if (IsTop)
            {
                meter.Set(start + ((end - start) * share));
            }
            else
            {
                meter.Poll();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sort<T>(T* t, int* sa, int n, int k, int* scratch, Level level)
        where T : unmanaged, IEquatable<T>
    {
        if (n == 1)
        {
            sa[0] = 0;
            return;
        }

        int[] countArray = WorkArrays.Rent<int>(k);
        int[] pointerArray = WorkArrays.Rent<int>(k);
        try
        {
            fixed (int* counts = countArray)
            fixed (int* pointers = pointerArray)
            {
                var buckets = new Buckets(counts, pointers, k);
                SortWithBuckets(t, sa, n, scratch, buckets, level);
            }
        }
        finally
        {
            WorkArrays.Return(pointerArray);
            WorkArrays.Return(countArray);
        }
    }

    private static void SortWithBuckets<T>(T* t, int* sa, int n, int* scratch, Buckets buckets, Level level)
        where T : unmanaged, IEquatable<T>
    {
        buckets.Count(t, n, level.Meter);

        // The LMS positions in text order, at the end of this level's scratch; deeper levels use the space before.
        int n1 = ListLms(t, n, scratch);
        int* lms = scratch + (n - n1);

        // Stage 1: seed the LMS suffixes at their bucket ends (any order); one induce round sorts the LMS substrings.
        new Span<int>(sa, n).Clear();
        buckets.SetEnds();
        int* ends = buckets.Pointers;
        for (int j = 0; j < n1; j++)
        {
            int p = lms[j];
            sa[--ends[Symbols.At(t, p)]] = p;
        }

        InduceL(t, sa, n, buckets, level.Meter);
        InduceS(t, sa, n, buckets, level.Meter, final: false);
        level.Mark(0.25);

        GatherSortedLms(sa, n, buckets);
        int nameCount = NameLmsSubstrings(t, sa, n, n1, lms, level.Meter);
        level.Mark(0.35);

        // Stage 2: the reduced string sits at the end of sa, its suffix array goes to the start (2 * n1 <= n).
        int* reduced = sa + (n - n1);
        if (nameCount < n1)
        {
            Sort(reduced, sa, n1, nameCount, scratch, level.Deeper);
        }
        else
        {
            for (int i = 0; i < n1; i++)
            {
                sa[reduced[i]] = i;
            }
        }

        level.Mark(0.6);

        // Stage 3: seed the LMS suffixes in their exact order at the bucket ends and induce the rest.
        bool prefetch = Sse.IsSupported;
        for (int i = 0; i < n1; i++)
        {
            if (prefetch && i + PrefetchDistance < n1)
            {
                Sse.Prefetch0(lms + sa[i + PrefetchDistance]);
            }

            sa[i] = lms[sa[i]];
        }

        new Span<int>(sa + n1, n - n1).Clear();
        buckets.SetEnds();
        for (int i = n1 - 1; i >= 0; i--)
        {
            if (prefetch && i >= PrefetchDistance)
            {
                Sse.Prefetch0(t + sa[i - PrefetchDistance]);
            }

            int p = sa[i];
            sa[i] = 0;
            sa[--ends[Symbols.At(t, p)]] = p;
        }

        InduceL(t, sa, n, buckets, level.Meter);
        InduceS(t, sa, n, buckets, level.Meter, final: true);
        level.Mark(1);
    }

    /// <summary>
    /// Writes the LMS positions in text order to the end of scratch[0..n) and returns how many there are (the
    /// sentinel included). Right to left with the types computed on the fly and no branches: every position is
    /// written, and the write index only moves past LMS ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ListLms<T>(T* t, int n, int* scratch)
        where T : unmanaged, IEquatable<T>
    {
        int w = n - 1;
        int nextIsS = 1;
        int next = Symbols.At(t, n - 1);
        for (int i = n - 2; i >= 0; i--)
        {
            int current = Symbols.At(t, i);
            int isS = (current < next ? 1 : 0) | ((current == next ? 1 : 0) & nextIsS);
            scratch[w] = i + 1;
            w -= nextIsS & (isS ^ 1);
            nextIsS = isS;
            next = current;
        }

        return n - 1 - w;
    }

    /// <summary>Symbol counts and one movable pointer per bucket.</summary>
    private readonly struct Buckets(int* counts, int* pointers, int size)
    {
        public int* Pointers => pointers;

        public int Size => size;

        public int* Counts => counts;

        public void Count<T>(T* t, int n, ProgressMeter meter)
            where T : unmanaged, IEquatable<T>
        {
            new Span<int>(counts, size).Clear();
            for (int start = 0; start < n; start += PollBlock)
            {
                int end = Math.Min(n, start + PollBlock);
                for (int i = start; i < end; i++)
                {
                    counts[Symbols.At(t, i)]++;
                }

                meter.Poll();
            }
        }

        public void SetStarts()
        {
            int sum = 0;
            for (int c = 0; c < size; c++)
            {
                pointers[c] = sum;
                sum += counts[c];
            }
        }

        public void SetEnds()
        {
            int sum = 0;
            for (int c = 0; c < size; c++)
            {
                sum += counts[c];
                pointers[c] = sum;
            }
        }
    }

    /// <summary>
    /// Left-to-right pass placing L-type suffixes at bucket starts. An entry is positive when the suffix before
    /// it is L-type and still to be placed; each entry's sign is flipped as the pass goes by, so afterwards the
    /// positive entries are exactly the L-type suffixes whose predecessor is S-type, which the S pass needs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InduceL<T>(T* t, int* sa, int n, Buckets buckets, ProgressMeter meter)
        where T : unmanaged, IEquatable<T>
    {
        buckets.SetStarts();
        int* starts = buckets.Pointers;
        bool prefetch = Sse.IsSupported;
        for (int blockStart = 0; blockStart < n; blockStart += PollBlock)
        {
            int blockEnd = Math.Min(n, blockStart + PollBlock);
            for (int i = blockStart; i < blockEnd; i++)
            {
                if (prefetch)
                {
                    Sse.Prefetch0(t + ((sa[i + PrefetchDistance < n ? i + PrefetchDistance : i] & int.MaxValue) - 1));
                }

                int v = sa[i];
                sa[i] = v ^ Negative;
                if (v > 0)
                {
                    int p = v - 1;
                    int c = Symbols.At(t, p);
                    int before = Symbols.At(t, p - (p > 0 ? 1 : 0));
                    sa[starts[c]++] = p | (before < c ? Negative : 0);
                }
            }

            meter.Poll();
        }
    }

    /// <summary>
    /// Right-to-left pass placing S-type suffixes at bucket ends; the S entries it writes are negative when the
    /// suffix before them is L-type, i.e. when they are LMS suffixes. The final pass clears every sign bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InduceS<T>(T* t, int* sa, int n, Buckets buckets, ProgressMeter meter, bool final)
        where T : unmanaged, IEquatable<T>
    {
        buckets.SetEnds();
        int* ends = buckets.Pointers;
        bool prefetch = Sse.IsSupported;
        for (int blockEnd = n; blockEnd > 0; blockEnd -= PollBlock)
        {
            int blockStart = Math.Max(0, blockEnd - PollBlock);
            for (int i = blockEnd - 1; i >= blockStart; i--)
            {
                if (prefetch)
                {
                    Sse.Prefetch0(t + ((sa[i >= PrefetchDistance ? i - PrefetchDistance : i] & int.MaxValue) - 1));
                }

                int v = sa[i];
                if (final)
                {
                    sa[i] = v & int.MaxValue;
                }

                if (v > 0)
                {
                    int p = v - 1;
                    int c = Symbols.At(t, p);
                    int before = Symbols.At(t, p - (p > 0 ? 1 : 0));
                    sa[--ends[c]] = p | (before > c ? Negative : 0);
                }
            }

            meter.Poll();
        }
    }

    /// <summary>
    /// After the stage-1 S pass the pointers mark where each bucket's S-type suffixes begin; the negative entries
    /// there are the LMS suffixes, in LMS-substring order. Moves them to sa[0..n1) with the sentinel first.
    /// </summary>
    private static void GatherSortedLms(int* sa, int n, Buckets buckets)
    {
        int* counts = buckets.Counts;
        int* sStarts = buckets.Pointers;
        int j = 0;
        sa[j++] = n - 1;
        int bucketEnd = 0;
        for (int c = 0; c < buckets.Size; c++)
        {
            bucketEnd += counts[c];
            for (int i = sStarts[c]; i < bucketEnd; i++)
            {
                int v = sa[i];
                if (v < 0)
                {
                    sa[j++] = v & int.MaxValue;
                }
            }
        }
    }

    /// <summary>
    /// Names the sorted LMS substrings (equal substrings, equal names, in sorted order) and stores the reduced
    /// string, the names in text order, in sa[n - n1..n). Returns the number of distinct names. The length of
    /// each LMS substring goes first into the free slot n1 + position / 2 (LMS positions are at least two apart),
    /// so two substrings are equal exactly when their lengths and their symbols are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int NameLmsSubstrings<T>(T* t, int* sa, int n, int n1, int* lms, ProgressMeter meter)
        where T : unmanaged, IEquatable<T>
    {
        int* slots = sa + n1;
        new Span<int>(slots, n - n1).Clear();
        for (int j = 0; j < n1 - 1; j++)
        {
            slots[lms[j] >> 1] = lms[j + 1] - lms[j] + 1;
        }

        slots[(n - 1) >> 1] = 1;
        meter.Poll();

        // Names start at 1 so that a zero slot still means "no LMS position here".
        bool prefetch = Sse.IsSupported;
        int name = 0;
        int previous = 0;
        int previousLength = 0;
        for (int blockStart = 0; blockStart < n1; blockStart += PollBlock)
        {
            int blockEnd = Math.Min(n1, blockStart + PollBlock);
            for (int i = blockStart; i < blockEnd; i++)
            {
                if (prefetch && i + PrefetchDistance < n1)
                {
                    int ahead = sa[i + PrefetchDistance];
                    Sse.Prefetch0(slots + (ahead >> 1));
                    Sse.Prefetch0(t + ahead);
                }

                int position = sa[i];
                int length = slots[position >> 1];
                bool same = length == previousLength;
                for (int d = 0; same && d < length; d++)
                {
                    same = Symbols.At(t, position + d) == Symbols.At(t, previous + d);
                }

                if (!same)
                {
                    name++;
                    previous = position;
                    previousLength = length;
                }

                slots[position >> 1] = name;
            }

            meter.Poll();
        }

        for (int i = n - 1, j = n - 1; i >= n1; i--)
        {
            int v = sa[i];
            if (v != 0)
            {
                sa[j--] = v - 1;
            }
        }

        return name;
    }
}
