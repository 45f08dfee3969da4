using System.Reflection;

namespace CeleryKube.Testing;

/// <summary>Where things are in the checkout the tests run from.</summary>
public static class RepoPaths
{
    /// <summary>The folder holding CeleryKube.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Release or Debug: the configuration the tests were built with, used for the services too.</summary>
    public static string Configuration { get; } =
        typeof(RepoPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    /// <summary>
    /// An environment variable naming another checkout whose built services to run instead of this
    /// one's, so a benchmark can compare two builds side by side in one run.
    /// </summary>
    public const string ServicesRootVariable = "CELERYKUBE_SERVICES_ROOT";

    /// <summary>The built dll of a service project, e.g. ("services/task-service", "CeleryKube.TaskService").</summary>
    public static string ServiceDll(string projectFolder, string assemblyName)
    {
        var root = Environment.GetEnvironmentVariable(ServicesRootVariable) is { Length: > 0 } other ? other : Root;
        var path = Path.Combine(root, projectFolder, "bin", Configuration, "net10.0", assemblyName + ".dll");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is not built; run scripts/test or dotnet build -c {Configuration}", path);
        return path;
    }

    /// <summary>The buf CLI that scripts/lib/install-packages installs.</summary>
    public static string Buf => Path.Combine(Root, "tools", "node_modules", ".bin", "buf");

    /// <summary>Where every test's private folders go, under the system temp folder.</summary>
    public static string TempRoot => Path.Combine(Path.GetTempPath(), "celerykube-tests");

    /// <summary>A fresh private folder for one test's data: <see cref="TempRoot"/>/purpose-xxxxxxxxxxxx.</summary>
    public static string NewTempFolder(string purpose)
    {
        var path = Path.Combine(TempRoot, $"{purpose}-{Guid.NewGuid():N}"[..(purpose.Length + 13)]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Removes a private folder and everything in it, as far as it can: a file some process still
    /// writes to must not fail the test that is cleaning up after itself.
    /// </summary>
    public static void DeleteTempFolder(string path)
    {
        try { Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CeleryKube.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("CeleryKube.sln not found above " + AppContext.BaseDirectory);
    }
}
