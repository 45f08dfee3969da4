using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CeleryKube.Lcs;

/// <summary>
/// The induce passes on two threads, as libsais does it with OpenMP: the pass goes block by block; both threads
/// first read the symbols of the entries already in the block (the random reads, nearly all cache misses), one
/// thread then moves the bucket pointers in order (cheap, and the only part that must be in order), and both
/// threads write the induced entries out. An entry induced into the block being processed is handled in the
/// ordered step itself, since the symbol readers could not have seen it.
/// </summary>
internal static unsafe partial class SaIs
{
    /// <summary>Levels shorter than this are induced on one thread: the per-block hand-offs would cost more.</summary>
    private const int TwoThreadMinLength = 1 << 20;

    /// <summary>Entries per block; the two cache arrays take 4 bytes per entry each.</summary>
    private const int CacheBlock = 1 << 17;

    // Cache symbol values besides real symbols and write targets.
    private const int Nothing = -1;
    private const int Recompute = -2;

    /// <summary>Per block entry: the symbol (later the write target) and the value to write.</summary>
    private readonly struct InduceCache(int* symbols, int* values)
    {
        public bool IsAvailable => symbols != null;

        public int* Symbols => symbols;

        public int* Values => values;
    }

    private static void InduceLTwoThreads<T>(T* t, int* sa, int n, int* starts, InduceCache cache, ProgressMeter meter)
        where T : unmanaged, IEquatable<T>
    {
        int* symbols = cache.Symbols;
        int* values = cache.Values;
        for (int blockStart = 0; blockStart < n; blockStart += CacheBlock)
        {
            int start = blockStart;
            int end = Math.Min(n, blockStart + CacheBlock);
            TwoThreads.Split(true, end - start, (from, to, _) => ReadSymbols(t, sa + start, from, to, symbols, values, leftToRight: true));

            for (int i = start; i < end; i++)
            {
                int j = i - start;
                int v = sa[i];
                sa[i] = v ^ Negative;
                int c = symbols[j];
                int value = values[j];
                if (c == Recompute)
                {
                    c = v > 0 ? InducedL(t, v, out value) : Nothing;
                }

                if (c == Nothing)
                {
                    continue;
                }

                int target = starts[c]++;
                if (target < end)
                {
                    sa[target] = value;
                    symbols[target - start] = Recompute;
                    symbols[j] = Nothing;
                }
                else
                {
                    symbols[j] = target;
                    values[j] = value;
                }
            }

            TwoThreads.Split(true, end - start, (from, to, owner) => WriteOut(sa, from, to, symbols, values, meter, owner));
        }
    }

    private static void InduceSTwoThreads<T>(T* t, int* sa, int n, int* ends, InduceCache cache, ProgressMeter meter, bool final)
        where T : unmanaged, IEquatable<T>
    {
        int* symbols = cache.Symbols;
        int* values = cache.Values;
        for (int blockEnd = n; blockEnd > 0; blockEnd -= CacheBlock)
        {
            int start = Math.Max(0, blockEnd - CacheBlock);
            int end = blockEnd;
            TwoThreads.Split(true, end - start, (from, to, _) => ReadSymbols(t, sa + start, from, to, symbols, values, leftToRight: false));

            for (int i = end - 1; i >= start; i--)
            {
                int j = i - start;
                int v = sa[i];
                if (final)
                {
                    sa[i] = v & int.MaxValue;
                }

                int c = symbols[j];
                int value = values[j];
                if (c == Recompute)
                {
                    c = v > 0 ? InducedS(t, v, out value) : Nothing;
                }

                if (c == Nothing)
                {
                    continue;
                }

                int target = --ends[c];
                if (target >= start)
                {
                    sa[target] = value;
                    symbols[target - start] = Recompute;
                    symbols[j] = Nothing;
                }
                else
                {
                    symbols[j] = target;
                    values[j] = value;
                }
            }

            TwoThreads.Split(true, end - start, (from, to, owner) => WriteOut(sa, from, to, symbols, values, meter, owner));
        }
    }

    /// <summary>For entries [from, to) of a block: the symbol of the suffix to induce and the entry to write, or Nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReadSymbols<T>(T* t, int* block, int from, int to, int* symbols, int* values, bool leftToRight)
        where T : unmanaged, IEquatable<T>
    {
        bool prefetch = Sse.IsSupported;
        for (int j = from; j < to; j++)
        {
            if (prefetch && j + PrefetchDistance < to)
            {
                Sse.Prefetch0(t + ((block[j + PrefetchDistance] & int.MaxValue) - 1));
            }

            int v = block[j];
            int value = 0;
            symbols[j] = v > 0 ? (leftToRight ? InducedL(t, v, out value) : InducedS(t, v, out value)) : Nothing;
            values[j] = value;
        }
    }

    private static void WriteOut(int* sa, int from, int to, int* symbols, int* values, ProgressMeter meter, bool owner)
    {
        for (int j = from; j < to; j++)
        {
            int target = symbols[j];
            if (target >= 0)
            {
                sa[target] = values[j];
            }
        }

        meter.Poll(owner);
    }

    /// <summary>The L pass's step for a positive entry <paramref name="v"/>: the bucket and the entry for suffix v - 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InducedL<T>(T* t, int v, out int value)
        where T : unmanaged, IEquatable<T>
    {
        int p = v - 1;
        int c = Symbols.At(t, p);
        value = p | (Symbols.At(t, p - (p > 0 ? 1 : 0)) < c ? Negative : 0);
        return c;
    }

    /// <summary>The S pass's step for a positive entry <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InducedS<T>(T* t, int v, out int value)
        where T : unmanaged, IEquatable<T>
    {
        int p = v - 1;
        int c = Symbols.At(t, p);
        value = p | (Symbols.At(t, p - (p > 0 ? 1 : 0)) > c ? Negative : 0);
        return c;
    }
}
