using System.Runtime.CompilerServices;

namespace CeleryKube.Lcs;

/// <summary>
/// Suffix array construction by induced sorting (SA-IS; Nong, Zhang and Chan, 2009), linear time.
/// The reduced problem lives inside the suffix array itself, so besides the output the only extra memory is
/// one type byte per symbol per level and one bucket array per level.
/// </summary>
internal static class SaIs
{
    private const int PollMask = (1 << 16) - 1;

    /// <summary>
    /// Fills <paramref name="sa"/> with the suffix array of <paramref name="text"/>. Symbols must lie in
    /// [0, <paramref name="alphabetSize"/>) and the last symbol must be 0 and occur nowhere else.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Build(ReadOnlySpan<int> text, Span<int> sa, int alphabetSize, ProgressMeter meter, double progressStart, double progressEnd)
    {
        if (text.Length == 0 || text[^1] != 0)
        {
            throw new ArgumentException("The text must end with a unique 0 sentinel.", nameof(text));
        }

        Sort(text, sa[..text.Length], alphabetSize, meter, progressStart, progressEnd, isTopLevel: true);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sort(ReadOnlySpan<int> s, Span<int> sa, int alphabetSize, ProgressMeter meter, double progressStart, double progressEnd, bool isTopLevel)
    {
        int n = s.Length;
        if (n == 1)
        {
            sa[0] = 0;
            return;
        }

        double Step(double share) => progressStart + ((progressEnd - progressStart) * share);
        void Mark(double share)
        {
            if (isTopLevel)
            {
                meter.Set(Step(share));
            }
            else
            {
                meter.Poll();
            }
        }

        byte[] isS = ClassifyTypes(s, meter);
        var bucket = new int[alphabetSize];

        // Stage 1: sort the LMS substrings by one induced-sorting pass seeded with unsorted LMS positions.
        FillBuckets(s, bucket, ends: true);
        sa.Fill(-1);
        for (int i = 1; i < n; i++)
        {
            if (IsLms(isS, i))
            {
                sa[--bucket[s[i]]] = i;
            }
        }

        InduceL(s, sa, bucket, meter);
        InduceS(s, sa, bucket, meter);
        Mark(0.25);

        // Compact the sorted LMS positions into sa[0..n1) and name the LMS substrings in that order.
        int n1 = 0;
        for (int i = 0; i < n; i++)
        {
            int p = sa[i];
            if (IsLms(isS, p))
            {
                sa[n1++] = p;
            }
        }

        int nameCount = NameLmsSubstrings(s, sa, isS, n1, meter);
        Mark(0.35);

        // Stage 2: the reduced string sits at the end of sa, its suffix array at the start (2 * n1 <= n).
        Span<int> reducedSa = sa[..n1];
        Span<int> reduced = sa[(n - n1)..];
        if (nameCount < n1)
        {
            Sort(reduced, reducedSa, nameCount, meter, 0, 0, isTopLevel: false);
        }
        else
        {
            for (int i = 0; i < n1; i++)
            {
                reducedSa[reduced[i]] = i;
            }
        }

        Mark(0.6);

        // Stage 3: seed the buckets with the LMS suffixes in their now exact order and induce the rest.
        for (int i = 1, j = 0; i < n; i++)
        {
            if (IsLms(isS, i))
            {
                reduced[j++] = i;
            }
        }

        for (int i = 0; i < n1; i++)
        {
            reducedSa[i] = reduced[reducedSa[i]];
        }

        sa[n1..].Fill(-1);
        FillBuckets(s, bucket, ends: true);
        for (int i = n1 - 1; i >= 0; i--)
        {
            int p = sa[i];
            sa[i] = -1;
            sa[--bucket[s[p]]] = p;
        }

        InduceL(s, sa, bucket, meter);
        InduceS(s, sa, bucket, meter);
        Mark(1);
    }

    /// <summary>isS[i] is 1 when suffix i is S-type (smaller than suffix i + 1), 0 when L-type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte[] ClassifyTypes(ReadOnlySpan<int> s, ProgressMeter meter)
    {
        int n = s.Length;
        var isS = new byte[n];
        isS[n - 1] = 1;
        for (int i = n - 2; i >= 0; i--)
        {
            isS[i] = s[i] < s[i + 1] || (s[i] == s[i + 1] && isS[i + 1] == 1) ? (byte)1 : (byte)0;
            if ((i & PollMask) == 0)
            {
                meter.Poll();
            }
        }

        return isS;
    }

    private static bool IsLms(byte[] isS, int i) => i > 0 && isS[i] == 1 && isS[i - 1] == 0;

    /// <summary>Bucket boundaries per symbol: the start of each bucket, or one past its end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillBuckets(ReadOnlySpan<int> s, int[] bucket, bool ends)
    {
        Array.Clear(bucket);
        foreach (int symbol in s)
        {
            bucket[symbol]++;
        }

        int sum = 0;
        for (int k = 0; k < bucket.Length; k++)
        {
            int count = bucket[k];
            bucket[k] = ends ? sum + count : sum;
            sum += count;
        }
    }

    /// <summary>
    /// Left-to-right scan placing L-type suffixes. Only LMS and L-type suffixes are in sa during this scan, and
    /// a suffix before either of those is L-type exactly when its symbol is not smaller than the next one; that
    /// reads two neighbouring symbols instead of a separate random access into the type array.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InduceL(ReadOnlySpan<int> s, Span<int> sa, int[] bucket, ProgressMeter meter)
    {
        FillBuckets(s, bucket, ends: false);
        for (int i = 0; i < sa.Length; i++)
        {
            int p = sa[i];
            if (p > 0)
            {
                int symbol = s[p - 1];
                if (symbol >= s[p])
                {
                    sa[bucket[symbol]++] = p - 1;
                }
            }

            if ((i & PollMask) == 0)
            {
                meter.Poll();
            }
        }
    }

    /// <summary>
    /// Right-to-left scan placing S-type suffixes. The suffix at position i is S-type exactly when i lies in the
    /// part of its bucket already filled by this scan (at or after the bucket's fill pointer), so, again, no
    /// type array is needed: the suffix before it is S-type when its symbol is smaller, or equal and the
    /// suffix itself is S-type.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InduceS(ReadOnlySpan<int> s, Span<int> sa, int[] bucket, ProgressMeter meter)
    {
        FillBuckets(s, bucket, ends: true);
        for (int i = sa.Length - 1; i >= 0; i--)
        {
            int p = sa[i];
            if (p > 0)
            {
                int symbol = s[p - 1];
                int next = s[p];
                if (symbol < next || (symbol == next && i >= bucket[next]))
                {
                    sa[--bucket[symbol]] = p - 1;
                }
            }

            if ((i & PollMask) == 0)
            {
                meter.Poll();
            }
        }
    }

    /// <summary>
    /// Gives equal LMS substrings equal names, in sorted order, and stores the reduced string (names in text
    /// order) in sa[n - n1..n). Returns the number of distinct names.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int NameLmsSubstrings(ReadOnlySpan<int> s, Span<int> sa, byte[] isS, int n1, ProgressMeter meter)
    {
        int n = s.Length;

        // LMS positions are at least two apart, so position / 2 is a collision-free slot in sa[n1..n).
        sa[n1..].Fill(-1);
        int name = 0;
        int previous = -1;
        for (int i = 0; i < n1; i++)
        {
            int position = sa[i];
            if (previous < 0 || !LmsSubstringsEqual(s, isS, position, previous))
            {
                name++;
                previous = position;
            }

            sa[n1 + (position / 2)] = name - 1;
            if ((i & PollMask) == 0)
            {
                meter.Poll();
            }
        }

        for (int i = n - 1, j = n - 1; i >= n1; i--)
        {
            if (sa[i] >= 0)
            {
                sa[j--] = sa[i];
            }
        }

        return name;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool LmsSubstringsEqual(ReadOnlySpan<int> s, byte[] isS, int x, int y)
    {
        // The unique sentinel is itself an LMS position, so the comparison always stops inside the text.
        for (int d = 0; ; d++)
        {
            if (s[x + d] != s[y + d] || isS[x + d] != isS[y + d])
            {
                return false;
            }

            if (d > 0 && (IsLms(isS, x + d) || IsLms(isS, y + d)))
            {
                return true;
            }
        }
    }
}
