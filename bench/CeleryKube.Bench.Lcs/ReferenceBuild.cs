using System.Reflection;
using System.Runtime.Loader;

namespace CeleryKube.Bench.Lcs;

/// <summary>
/// Another build of CeleryKube.Lcs (e.g. today's main, built elsewhere) loaded into its own load context, so
/// the same process can time it side by side with this build. Only the public entry point that every build
/// has is used: Find(a, b, algorithm, progress, cancellationToken).
/// </summary>
internal sealed class ReferenceBuild
{
    private readonly MethodInfo _find;
    private readonly object _suffixArray;
    private readonly PropertyInfo _length;
    private readonly PropertyInfo _offsetA;
    private readonly PropertyInfo _offsetB;

    public ReferenceBuild(string assemblyPath)
    {
        Path = System.IO.Path.GetFullPath(assemblyPath);
        Assembly assembly = new AssemblyLoadContext("reference build").LoadFromAssemblyPath(Path);
        Type entry = assembly.GetType("CeleryKube.Lcs.LongestCommonSubstring", throwOnError: true)!;
        Type algorithm = assembly.GetType("CeleryKube.Lcs.LcsAlgorithm", throwOnError: true)!;
        Type result = assembly.GetType("CeleryKube.Lcs.LcsResult", throwOnError: true)!;
        _find = entry.GetMethod("Find", [typeof(string), typeof(string), algorithm, typeof(IProgress<double>), typeof(CancellationToken)])
            ?? throw new InvalidOperationException($"{Path} has no Find(string, string, LcsAlgorithm, IProgress<double>, CancellationToken).");
        _suffixArray = Enum.Parse(algorithm, "SuffixArray");
        _length = result.GetProperty("Length")!;
        _offsetA = result.GetProperty("OffsetA")!;
        _offsetB = result.GetProperty("OffsetB")!;
    }

    public string Path { get; }

    /// <summary>The reference's suffix-array result as (length, offset in a, offset in b).</summary>
    public (int Length, int OffsetA, int OffsetB) Find(string a, string b)
    {
        object result = _find.Invoke(null, [a, b, _suffixArray, null, CancellationToken.None])!;
        return ((int)_length.GetValue(result)!, (int)_offsetA.GetValue(result)!, (int)_offsetB.GetValue(result)!);
    }
}
