using System.Text;

namespace CeleryKube.Bench.Lcs;

/// <summary>The two benchmark input kinds. Sizes are UTF-16 chars per side.</summary>
internal static class Inputs
{
    /// <summary>Random A/C/G/T text; a and b use different seeds.</summary>
    public static (string A, string B) Dna(int size) => (RandomDna(size, seed: 1), RandomDna(size, seed: 2));

    /// <summary>
    /// English prose from licence texts Debian installs: /usr/share/common-licenses/* then
    /// /usr/share/doc/*/copyright, each list sorted by path, concatenated. Text a is the first <paramref name="size"/>
    /// chars, text b the <paramref name="size"/> chars starting at the corpus midpoint, so they never overlap
    /// while the corpus holds 2 x size chars (it holds about 21 M here).
    /// </summary>
    public static (string A, string B) Prose(string corpus, int size)
    {
        int middle = corpus.Length / 2;
        if (size > middle)
        {
            throw new InvalidOperationException($"The prose corpus has {corpus.Length} chars, too few for two disjoint {size}-char texts.");
        }

        return (corpus[..size], corpus.Substring(middle, size));
    }

    public static string LoadProseCorpus()
    {
        var files = Directory.GetFiles("/usr/share/common-licenses").Order(StringComparer.Ordinal)
            .Concat(Directory.GetDirectories("/usr/share/doc").Order(StringComparer.Ordinal)
                .Select(dir => Path.Combine(dir, "copyright"))
                .Where(File.Exists));
        var builder = new StringBuilder();
        foreach (string file in files)
        {
            try
            {
                builder.Append(File.ReadAllText(file, Encoding.UTF8)).Append('\n');
            }
            catch (IOException)
            {
                // A dangling symlink or unreadable file just leaves the corpus a little shorter.
            }
            catch (UnauthorizedAccessException)
            {
            }
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
