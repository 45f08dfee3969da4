using System.Runtime.CompilerServices;

namespace CeleryKube.Lcs;

/// <summary>
/// Linear-time longest common substring: suffix array of <c>a + sep1 + b + sep0</c> by SA-IS, LCP by the
/// permuted-LCP (Phi) variant of Kasai's algorithm, then a scan. Peak extra memory is about 12 bytes per
/// code point: the ranked text, the suffix array and one more int array (Phi, later the LCP).
/// </summary>
internal static class SuffixArrayLcs
{
    private const int PollShift = 16;
    private const int PollMask = (1 << PollShift) - 1;
    private const int EndSentinel = 0;
    private const int Separator = 1;
    private const int FirstSymbol = 2;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Candidate Find(string a, string b, ProgressMeter meter)
    {
        if ((long)a.Length + b.Length + 2 > Array.MaxLength)
        {
            throw new ArgumentException("The two texts together are too long for one suffix array.", nameof(b));
        }

        var text = new int[a.Length + b.Length + 2];
        int n = CodePoints.Decode(a, text);
        int m = CodePoints.Decode(b, text.AsSpan(n + 1));
        if (n == 0 || m == 0)
        {
            return Candidate.None;
        }

        int length = n + m + 2;
        int alphabetSize = SymbolRanks.RankInPlace(text.AsSpan(0, n), text.AsSpan(n + 1, m), FirstSymbol);
        text[n] = Separator;
        text[length - 1] = EndSentinel;
        meter.Set(0.05);

        var sa = new int[length];
        SaIs.Build(text.AsSpan(0, length), sa, alphabetSize, meter, 0.05, 0.7);

        int[] lcp = BuildLcpReusingText(text, sa, length, meter);
        meter.Set(0.95);

        return ScanForLongest(sa, lcp, length, n, m, meter);
    }

    /// <summary>
    /// Returns lcp[k] = longest common prefix of suffixes sa[k - 1] and sa[k] (lcp[0] = 0), written over the
    /// text array, which is no longer needed; saves the separate rank array Kasai's algorithm uses.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int[] BuildLcpReusingText(int[] text, int[] sa, int length, ProgressMeter meter)
    {
        // phi[p] = the suffix just before suffix p in suffix-array order.
        var phi = new int[length];
        phi[sa[0]] = -1;
        for (int k = 1; k < length; k++)
        {
            phi[sa[k]] = sa[k - 1];
            if ((k & PollMask) == 0)
            {
                meter.Poll();
            }
        }

        meter.Set(0.75);

        // Permuted LCP in text order: plcp[p + 1] >= plcp[p] - 1, so the match length carries over (linear).
        int match = 0;
        for (int p = 0; p < length; p++)
        {
            int previous = phi[p];
            if (previous < 0)
            {
                phi[p] = 0;
                match = 0;
                continue;
            }

            // The unique end sentinel stops the comparison inside the array.
            while (text[p + match] == text[previous + match])
            {
                match++;
            }

            phi[p] = match;
            if (match > 0)
            {
                match--;
            }

            if ((p & PollMask) == 0)
            {
                meter.Set(0.75, 0.9, p, length);
            }
        }

        int[] lcp = text;
        for (int k = 0; k < length; k++)
        {
            lcp[k] = phi[sa[k]];
            if ((k & PollMask) == 0)
            {
                meter.Poll();
            }
        }

        return lcp;
    }

    /// <summary>
    /// The longest length is the largest LCP between neighbours from different texts. For the tie-break, every
    /// a-suffix and b-suffix sharing that many symbols lie in one maximal run of suffix-array positions whose
    /// inner LCPs are all at least that length; each run offers (its smallest a-offset, its smallest
    /// b-offset), and the smallest such pair over all runs is the answer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Candidate ScanForLongest(int[] sa, int[] lcp, int length, int n, int m, ProgressMeter meter)
    {
        int longest = 0;
        for (int k = 1; k < length; k++)
        {
            // A separator suffix shares no prefix with anything, so "not in a" may stand for "in b" here.
            if (lcp[k] > longest && (sa[k] < n) != (sa[k - 1] < n))
            {
                longest = lcp[k];
            }

            if ((k & PollMask) == 0)
            {
                meter.Poll();
            }
        }

        if (longest == 0)
        {
            return Candidate.None;
        }

        var best = new Candidate(longest, int.MaxValue, int.MaxValue);
        int bStart = n + 1;
        int bEnd = n + 1 + m;
        int runStart = 0;
        while (runStart < length)
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

                if (k + 1 >= length || lcp[k + 1] < longest)
                {
                    break;
                }

                k++;
            }

            if (minA != int.MaxValue && minB != int.MaxValue)
            {
                var candidate = new Candidate(longest, minA, minB);
                if (candidate.IsBetterThan(best))
                {
                    best = candidate;
                }
            }

            // Poll whenever the scan crosses a multiple of the poll interval.
            if ((runStart >> PollShift) != ((k + 1) >> PollShift))
            {
                meter.Poll();
            }

            runStart = k + 1;
        }

        return best;
    }
}
