using System.Runtime.CompilerServices;

namespace CeleryKube.Lcs;

/// <summary>
/// The reference dynamic programme: cell (i, j) holds the length of the common suffix of a[..i] and b[..j].
/// One row over the shorter text keeps memory at O(min(n, m)).
/// </summary>
internal static class DynamicProgrammingLcs
{
    private const int PollEveryCells = 1 << 18;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Candidate Find(int[] a, int[] b, ProgressMeter meter)
    {
        // Rows run over the longer text so the row buffer is sized by the shorter one.
        bool aIsOuter = a.Length >= b.Length;
        int[] outer = aIsOuter ? a : b;
        int[] inner = aIsOuter ? b : a;
        var row = new int[inner.Length + 1];

        var best = Candidate.None;
        long budget = PollEveryCells;
        for (int i = 0; i < outer.Length; i++)
        {
            int symbol = outer[i];

            // Right to left so row[j] still holds the previous row's value when row[j + 1] is written.
            for (int j = inner.Length - 1; j >= 0; j--)
            {
                int length = inner[j] == symbol ? row[j] + 1 : 0;
                row[j + 1] = length;
                if (length != 0 && length >= best.Length)
                {
                    int outerStart = i - length + 1;
                    int innerStart = j - length + 1;
                    var candidate = aIsOuter
                        ? new Candidate(length, outerStart, innerStart)
                        : new Candidate(length, innerStart, outerStart);
                    if (candidate.IsBetterThan(best))
                    {
                        best = candidate;
                    }
                }
            }

            budget -= inner.Length + 1;
            if (budget <= 0)
            {
                budget = PollEveryCells;
                meter.Set(0, 1, i, outer.Length);
            }
        }

        return best;
    }
}
