using System.Text;

namespace CeleryKube.Bench.Lcs;

/// <summary>The two benchmark input kinds. Sizes are UTF-16 chars per side.</summary>
internal static class Inputs
{
    /// <summary>Random A/C/G/T text; a and b use different seeds.</summary>
    public static (string A, string B) Dna(int size) => (RandomDna(size, seed: 1), RandomDna(size, seed: 2));

    /// <summary>
    /// English prose from licence texts Debian installs: /usr/share/common-licenses/* and
    /// /usr/share/doc/*/copyright, sorted by path, byte-identical files dropped (many packages ship the same
    /// copyright file). Files alternate between two pools, so a and b come from different files; each text is
    /// its pool's files concatenated in order, repeated when the pool is shorter than the requested size.
    /// </summary>
    public static (string A, string B) Prose(ProseCorpus corpus, int size) =>
        (Take(corpus.PoolA, size), Take(corpus.PoolB, size));

    public static ProseCorpus LoadProseCorpus()
    {
        var files = Directory.GetFiles("/usr/share/common-licenses")
            .Concat(Directory.GetDirectories("/usr/share/doc").Select(dir => Path.Combine(dir, "copyright")).Where(File.Exists))
            .Order(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pools = new[] { new StringBuilder(), new StringBuilder() };
        int next = 0;
        foreach (string file in files)
        {
            string text;
            try
            {
                text = File.ReadAllText(file, Encoding.UTF8);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // A dangling symlink or unreadable file just leaves the corpus a little shorter.
            }

            if (seen.Add(text))
            {
                pools[next].Append(text).Append('\n');
                next = 1 - next;
            }
        }

        return new ProseCorpus(pools[0].ToString(), pools[1].ToString());
    }

    private static string Take(string pool, int size)
    {
        var builder = new StringBuilder(size);
        while (builder.Length < size)
        {
            builder.Append(pool, 0, Math.Min(pool.Length, size - builder.Length));
        }

        return builder.ToString();
    }

    private static string RandomDna(int size, int seed)
    {
        const string letters = "ACGT";
        var random = new Random(seed);
        return string.Create(size, random, (span, r) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = letters[r.Next(4)];
            }
        });
    }
}

/// <summary>Two disjoint sets of licence files, each concatenated into one string.</summary>
internal sealed record ProseCorpus(string PoolA, string PoolB);
