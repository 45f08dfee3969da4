using System.Runtime.CompilerServices;

namespace CeleryKube.Lcs;

/// <summary>
/// The original toy's algorithm, kept on purpose as slow CPU-bound load: for every pair of start positions,
/// extend while the code points are equal. Scanning starts in a-then-b order and keeping only strictly longer
/// matches gives the earliest-in-a, then earliest-in-b tie-break for free.
/// </summary>
internal static class BruteForceLcs
{
    // Work units (pairs plus extension steps) between cancellation/progress polls: well under a millisecond.
    private const int PollEvery = 1 << 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Candidate Find(int[] a, int[] b, ProgressMeter meter)
    {
        var best = Candidate.None;
        long budget = PollEvery;
        for (int i = 0; i < a.Length; i++)
        {
            for (int j = 0; j < b.Length; j++)
            {
                int k = 0;
                while (i + k < a.Length && j + k < b.Length && a[i + k] == b[j + k])
                {
                    k++;
                }

                if (k > best.Length)
                {
                    best = new Candidate(k, i, j);
                }

                budget -= 1 + k;
                if (budget <= 0)
                {
                    budget = PollEvery;
                    meter.Set(0, 1, i, a.Length);
                }
            }
        }

        return best;
    }
}
