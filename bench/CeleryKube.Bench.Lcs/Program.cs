using CeleryKube.Bench.Lcs;

// Usage: dotnet run -c Release --project bench/CeleryKube.Bench.Lcs [-- options]
//   --reference PATH   another build's CeleryKube.Lcs.dll to time side by side with this one (e.g. today's main)
//   --quick            sizes up to 1 MB only and fewer runs (a smoke run)
//   --sizes 1000,10000000   only these sizes (chars per side)
//   --side-by-side-only     skip the every-algorithm table
var options = BenchOptions.Parse(args);
ProseCorpus corpus = Inputs.LoadProseCorpus();
Console.WriteLine($"# LCS core benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"# load average at start: {BenchOptions.LoadAverage()}");
Console.WriteLine($"# prose pools (distinct licence files, alternating): a {corpus.PoolA.Length:N0} chars, b {corpus.PoolB.Length:N0} chars; repeated past that");
Console.WriteLine("# sizes are UTF-16 chars per side (ASCII: bytes)");
Console.WriteLine();

var inputs = new[] { "dna", "prose" }
    .SelectMany(kind => options.Sizes.Select(size => (Kind: kind, Size: size)))
    .Select(x => (x.Kind, x.Size, Texts: x.Kind == "dna" ? Inputs.Dna(x.Size) : Inputs.Prose(corpus, x.Size)))
    .ToList();

if (!options.SideBySideOnly)
{
    AlgorithmTable.PrintHeader();
    foreach (var (kind, size, (a, b)) in inputs)
    {
        AlgorithmTable.Run(kind, size, a, b, options.Quick);
    }

    Console.WriteLine();
}

SideBySide.PrintHeader(options.Reference);
var phases = inputs.SelectMany(x => SideBySide.Run(x.Kind, x.Size, x.Texts.A, x.Texts.B, options.Reference, options.RoundsFor(x.Size))).ToList();
SideBySide.PrintPhases(phases);
Console.WriteLine();
Console.WriteLine($"# load average at end: {BenchOptions.LoadAverage()}");
