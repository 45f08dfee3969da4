using System.Runtime.CompilerServices;

namespace CeleryKube.Lcs;

/// <summary>Dense ranking of code points so the suffix-array buckets are sized by the distinct symbols used.</summary>
internal static class SymbolRanks
{
    // A lookup table this big costs less than sorting; beyond it (few symbols, huge code points) sort instead.
    private const int MinTableSize = 4096;

    /// <summary>
    /// Replaces every value in both spans by firstRank + (its rank among the distinct values of both spans).
    /// Returns firstRank + the number of distinct values, i.e. the alphabet size including the reserved ranks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int RankInPlace(Span<int> first, Span<int> second, int firstRank)
    {
        int max = Math.Max(Max(first), Max(second));
        long total = (long)first.Length + second.Length;
        return max < Math.Max(MinTableSize, 4 * total)
            ? RankByTable(first, second, firstRank, max)
            : RankBySorting(first, second, firstRank);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Max(ReadOnlySpan<int> values)
    {
        int max = 0;
        foreach (int v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RankByTable(Span<int> first, Span<int> second, int firstRank, int max)
    {
        var table = new int[max + 1];
        foreach (int v in first)
        {
            table[v] = 1;
        }

        foreach (int v in second)
        {
            table[v] = 1;
        }

        int next = firstRank;
        for (int v = 0; v <= max; v++)
        {
            if (table[v] != 0)
            {
                table[v] = next++;
            }
        }

        foreach (ref int v in first)
        {
            v = table[v];
        }

        foreach (ref int v in second)
        {
            v = table[v];
        }

        return next;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RankBySorting(Span<int> first, Span<int> second, int firstRank)
    {
        var distinct = new int[first.Length + second.Length];
        first.CopyTo(distinct);
        second.CopyTo(distinct.AsSpan(first.Length));
        Array.Sort(distinct);
        int count = 0;
        for (int i = 0; i < distinct.Length; i++)
        {
            if (count == 0 || distinct[i] != distinct[count - 1])
            {
                distinct[count++] = distinct[i];
            }
        }

        ReadOnlySpan<int> sorted = distinct.AsSpan(0, count);
        foreach (ref int v in first)
        {
            v = firstRank + sorted.BinarySearch(v);
        }

        foreach (ref int v in second)
        {
            v = firstRank + sorted.BinarySearch(v);
        }

        return firstRank + count;
    }
}
