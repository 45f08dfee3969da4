using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace CeleryKube.Lcs;

/// <summary>
/// Linear-time longest common substring: suffix array of <c>a + sep1 + b + sep0</c> by SA-IS, the permuted LCP
/// (Phi variant of Kasai's algorithm) in text order, then one scan in suffix-array order. The text is stored
/// in one or two bytes per symbol when the alphabet fits. The LCP is never put in suffix-array order: the
/// longest length falls out of the text-order pass, and the scan only needs to know which neighbours share
/// at least that many symbols, one bit per suffix written over the text. Working memory is the text, the
/// suffix array and the Phi array: 9 bytes per code point for up to 254 distinct code points, 10 for up to
/// 65,534, 12 beyond.
/// </summary>
internal static unsafe class SuffixArrayLcs
{
    private const int PollBlock = SaIs.PollBlock;
    private const int PrefetchDistance = SaIs.PrefetchDistance;
    private const int EndSentinel = 0;
    private const int Separator = 1;
    private const int FirstSymbol = 2;

    // Room after the text for the link bits (one bit per symbol) when they are written over a byte text.
    private const int LinkPadding = 64;

    // Below this many symbols starting a second thread costs about as much as it saves.
    private const int ParallelMinLength = 1 << 18;

    public static Candidate Find(string a, string b, int maxDegreeOfParallelism, ProgressMeter meter, PhaseTimes? phases = null)
    {
        if ((long)a.Length + b.Length + 2 + LinkPadding > Array.MaxLength)
        {
            throw new ArgumentException("The two texts together are too long for one suffix array.", nameof(b));
        }

        bool parallel = maxDegreeOfParallelism > 1 && a.Length + b.Length >= ParallelMinLength;
        int[] wide = WorkArrays.Rent<int>(a.Length + b.Length + 2 + LinkPadding);
        try
        {
            (int n, int m) = DecodeBoth(a, b, wide, parallel);
            if (n == 0 || m == 0)
            {
                return Candidate.None;
            }

            int length = n + m + 2;
            int alphabetSize = SymbolRanks.RankInPlace(wide.AsSpan(0, n), wide.AsSpan(n + 1, m), FirstSymbol);
            wide[n] = Separator;
            wide[length - 1] = EndSentinel;
            meter.Set(0.05);

            var job = new Job(n, m, length, alphabetSize, parallel, meter, phases);
            return alphabetSize <= byte.MaxValue + 1 ? job.SolveNarrow<byte>(wide)
                : alphabetSize <= ushort.MaxValue + 1 ? job.SolveNarrow<ushort>(wide)
                : job.SolveWide(wide);
        }
        finally
        {
            WorkArrays.Return(wide);
        }
    }

    /// <summary>
    /// Decodes a to wide[0..n) and b to wide[n + 1..n + 1 + m) (each on its own thread when parallel: b is
    /// decoded at a's UTF-16 length and moved down if a held surrogate pairs).
    /// </summary>
    private static (int N, int M) DecodeBoth(string a, string b, int[] wide, bool parallel)
    {
        int n = 0;
        int m = 0;
        int bAt = a.Length + 1;
        if (parallel)
        {
            TwoThreads.Run(() => n = CodePoints.Decode(a, wide), () => m = CodePoints.Decode(b, wide.AsSpan(bAt)));
        }
        else
        {
            n = CodePoints.Decode(a, wide);
            m = CodePoints.Decode(b, wide.AsSpan(bAt));
        }

        if (n + 1 != bAt)
        {
            wide.AsSpan(bAt, m).CopyTo(wide.AsSpan(n + 1));
        }

        return (n, m);
    }

    /// <summary>One call's sizes and settings, shared by its phases.</summary>
    private sealed class Job(int n, int m, int length, int alphabetSize, bool parallel, ProgressMeter meter, PhaseTimes? phases)
    {
        /// <summary>Copies the ranked text into bytes or 16-bit values; the int array then becomes the suffix array.</summary>
        public Candidate SolveNarrow<T>(int[] wide)
            where T : unmanaged, IEquatable<T>
        {
            T[] text = WorkArrays.Rent<T>(length + LinkPadding);
            try
            {
                fixed (int* w = wide)
                fixed (T* t = text)
                {
                    int* source = w;
                    T* destination = t;
                    TwoThreads.Split(parallel, length, (start, end, _) =>
                    {
                        for (int i = start; i < end; i++)
                        {
                            Symbols.Set(destination, i, source[i]);
                        }
                    });
                }

                phases?.Lap("code points");
                return Solve(text, wide);
            }
            finally
            {
                WorkArrays.Return(text);
            }
        }

        public Candidate SolveWide(int[] wide)
        {
            phases?.Lap("code points");
            int[] sa = WorkArrays.Rent<int>(length);
            try
            {
                return Solve(wide, sa);
            }
            finally
            {
                WorkArrays.Return(sa);
            }
        }

        private Candidate Solve<T>(T[] textArray, int[] saArray)
            where T : unmanaged, IEquatable<T>
        {
            int longest;
            int[] phiArray = WorkArrays.Rent<int>(length);
            try
            {
                // Phi's array is working space for the suffix array first: it holds the LMS positions.
                SaIs.Build(new ReadOnlySpan<T>(textArray, 0, length), saArray, phiArray, alphabetSize, meter, 0.05, 0.7);
                phases?.Lap("suffix array");

                fixed (T* text = textArray)
                fixed (int* sa = saArray)
                fixed (int* phi = phiArray)
                {
                    BuildPhi(sa, phi);
                    meter.Set(0.75);
                    longest = PermutedLcp(text, phi);
                    meter.Set(0.9);
                    phases?.Lap("LCP");
                    if (longest == 0)
                    {
                        phases?.Lap("scan");
                        return Candidate.None;
                    }

                    // The text is no longer needed: its memory holds one link bit per suffix.
                    MarkLinks(phi, (ulong*)text, longest);
                }
            }
            finally
            {
                WorkArrays.Return(phiArray);
            }

            Candidate best;
            fixed (T* text = textArray)
            fixed (int* sa = saArray)
            {
                best = ScanForFirstPair(sa, (ulong*)text, longest);
            }

            phases?.Lap("scan");
            return best;
        }

        /// <summary>phi[p] = the suffix just before suffix p in suffix-array order (-1 for the first).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void BuildPhi(int* sa, int* phi)
        {
            phi[sa[0]] = -1;
            TwoThreads.Split(parallel, length, (start, end, owner) =>
            {
                bool prefetch = Sse.IsSupported;
                for (int blockStart = Math.Max(start, 1); blockStart < end; blockStart += PollBlock)
                {
                    int blockEnd = Math.Min(end, blockStart + PollBlock);
                    for (int k = blockStart; k < blockEnd; k++)
                    {
                        if (prefetch && k + PrefetchDistance < length)
                        {
                            Sse.Prefetch0(phi + sa[k + PrefetchDistance]);
                        }

                        phi[sa[k]] = sa[k - 1];
                    }

                    meter.Poll(owner);
                }
            });
        }

        /// <summary>
        /// Overwrites phi[p] with the longest common prefix of suffix p and the suffix before it in suffix-array
        /// order (Kasai's bound plcp[p + 1] >= plcp[p] - 1 keeps it linear), and returns the largest such value
        /// between a suffix of a and one of b: the length of the longest common substring.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int PermutedLcp<T>(T* text, int* phi)
            where T : unmanaged
        {
            int firstHalfLongest = 0;
            int secondHalfLongest = 0;
            TwoThreads.Split(parallel, length, (start, end, owner) =>
            {
                int longest = 0;
                int match = 0;
                bool prefetch = Sse.IsSupported;
                for (int blockStart = start; blockStart < end; blockStart += PollBlock)
                {
                    int blockEnd = Math.Min(end, blockStart + PollBlock);
                    for (int p = blockStart; p < blockEnd; p++)
                    {
                        if (prefetch && p + PrefetchDistance < length)
                        {
                            Sse.Prefetch0(text + Math.Max(0, phi[p + PrefetchDistance] + match));
                        }

                        int previous = phi[p];
                        if (previous < 0)
                        {
                            phi[p] = 0;
                            match = 0;
                            continue;
                        }

                        // The unique end sentinel stops the comparison inside the array.
                        while (Symbols.At(text, p + match) == Symbols.At(text, previous + match))
                        {
                            match++;
                        }

                        phi[p] = match;

                        // A separator or sentinel suffix shares nothing, so "not in a" may stand for "in b".
                        if (match > longest && (p < n) != (previous < n))
                        {
                            longest = match;
                        }

                        if (match > 0)
                        {
                            match--;
                        }
                    }

                    if (owner)
                    {
                        meter.Set(0.75, 0.9, blockEnd - start, end - start);
                    }
                    else
                    {
                        meter.Poll(owner);
                    }
                }

                if (owner)
                {
                    firstHalfLongest = longest;
                }
                else
                {
                    secondHalfLongest = longest;
                }
            });
            return Math.Max(firstHalfLongest, secondHalfLongest);
        }

        /// <summary>Bit p of <paramref name="links"/>: suffix p shares at least <paramref name="longest"/> symbols with the suffix before it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MarkLinks(int* plcp, ulong* links, int longest)
        {
            int words = (length + 63) / 64;
            TwoThreads.Split(parallel, words, (start, end, owner) =>
            {
                for (int w = start; w < end; w++)
                {
                    ulong word = 0;
                    int first = w * 64;
                    int count = Math.Min(64, length - first);
                    for (int j = 0; j < count; j++)
                    {
                        word |= (plcp[first + j] >= longest ? 1UL : 0UL) << j;
                    }

                    links[w] = word;
                    if ((w & 1023) == 0)
                    {
                        meter.Poll(owner);
                    }
                }
            });
        }

        private static bool IsLinked(ulong* links, int p) => (links[p >> 6] & (1UL << p)) != 0;

        /// <summary>
        /// Every a-suffix and b-suffix sharing the longest length lie in one maximal run of suffix-array positions
        /// linked to their predecessors; each run offers (its smallest a-offset, its smallest b-offset), and the
        /// smallest such pair over all runs is the answer (earliest in a, then earliest in b). In parallel, the
        /// second half starts at the first run that begins at or after the middle.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Candidate ScanForFirstPair(int* sa, ulong* links, int longest)
        {
            if (!parallel)
            {
                return ScanRuns(sa, links, longest, 0, length, owner: true);
            }

            int middle = length / 2;
            while (middle < length && IsLinked(links, sa[middle]))
            {
                middle++;
            }

            var first = Candidate.None;
            var second = Candidate.None;
            TwoThreads.Run(
                () => first = ScanRuns(sa, links, longest, 0, middle, owner: true),
                () => second = ScanRuns(sa, links, longest, middle, length, owner: false));
            return second.Length > 0 && (first.Length == 0 || second.IsBetterThan(first)) ? second : first;
        }

        /// <summary>Scans the runs that start in [from, to); <paramref name="from"/> must be a run start.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Candidate ScanRuns(int* sa, ulong* links, int longest, int from, int to, bool owner)
        {
            var best = Candidate.None;
            int bStart = n + 1;
            int bEnd = n + 1 + m;
            int runStart = from;
            while (runStart < to)
            {
                int minA = int.MaxValue;
                int minB = int.MaxValue;
                int k = runStart;
                while (true)
                {
                    int p = sa[k];
                    if (p < n)
                    {
                        minA = Math.Min(minA, p);
                    }
                    else if (p >= bStart && p < bEnd)
                    {
                        minB = Math.Min(minB, p - bStart);
                    }

                    if (k + 1 >= length || !IsLinked(links, sa[k + 1]))
                    {
                        break;
                    }

                    k++;
                }

                if (minA != int.MaxValue && minB != int.MaxValue)
                {
                    var candidate = new Candidate(longest, minA, minB);
                    if (best.Length == 0 || candidate.IsBetterThan(best))
                    {
                        best = candidate;
                    }
                }

                // Poll whenever the scan crosses a multiple of the poll block.
                if ((runStart / PollBlock) != ((k + 1) / PollBlock))
                {
                    meter.Poll(owner);
                }

                runStart = k + 1;
            }

            return best;
        }
    }
}
