using System.Collections.Concurrent;
using System.Reflection;
using System.Xml.Linq;

namespace CeleryKube.Deploy.Tests;

/// <summary>One setting a service binds: <c>Section__Property</c> and where it is declared.</summary>
internal sealed record Setting(string Name, Type OptionsType, PropertyInfo Property);

/// <summary>
/// What the service inside an image actually reads, found by reflection over its assembly and
/// the CeleryKube assemblies it references: every type with a <c>public const string
/// SectionName</c> is an options class, each public settable property one setting
/// (docs/configuration.md). Nothing here is a hand-kept list of names.
/// </summary>
internal sealed class ServiceContract
{
    private static readonly ConcurrentDictionary<string, ServiceContract> Cache = new();

    private ServiceContract(Artifact artifact)
    {
        Artifact = artifact;
        Dockerfile = new Dockerfile(artifact.Dockerfile);
        Project = Dockerfile.PublishedProject;
        AssemblyName = Path.GetFileNameWithoutExtension(Project);
        try
        {
            Assembly = Assembly.Load(new AssemblyName(AssemblyName));
        }
        catch (FileNotFoundException)
        {
            throw new InvalidOperationException(
                $"{artifact.Image}: {Project} ({AssemblyName}) is not in this checkout or not referenced by " +
                "CeleryKube.Deploy.Tests.csproj, so the settings it binds cannot be checked. It lands with its own issue.");
        }
        foreach (var assembly in Closure(Assembly))
        {
            foreach (var type in LoadableTypes(assembly))
            {
                if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field
                    || field.GetRawConstantValue() is not string section) continue;
                foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (property.SetMethod is not { IsPublic: true }) continue;
                    var setting = new Setting($"{section}__{property.Name}", type, property);
                    Settings[setting.Name] = setting;
                    if (assembly == Assembly) OwnSettings.Add(setting);
                }
            }
        }
    }

    public Artifact Artifact { get; }

    public Dockerfile Dockerfile { get; }

    public string Project { get; }

    public string AssemblyName { get; }

    public Assembly Assembly { get; }

    /// <summary>Every setting name the service binds, with its declaration.</summary>
    public Dictionary<string, Setting> Settings { get; } = new(StringComparer.Ordinal);

    /// <summary>Settings declared by the service's own assembly (not the shared libraries).</summary>
    public List<Setting> OwnSettings { get; } = [];

    public static ServiceContract For(Artifact artifact) => Cache.GetOrAdd(artifact.Image, _ => new ServiceContract(artifact));

    /// <summary>
    /// The contract, or the reason there is none (the project has not landed yet), so a test
    /// can go on checking the other images and report every problem at once.
    /// </summary>
    public static ServiceContract? TryFor(Artifact artifact, List<string> problems)
    {
        try
        {
            return For(artifact);
        }
        catch (InvalidOperationException ex)
        {
            if (!problems.Contains(ex.Message)) problems.Add(ex.Message);
            return null;
        }
    }

    /// <summary>
    /// The ports the service listens on with the given environment: every <c>int</c> setting
    /// named <c>*Port</c> of its own options classes, from the environment or the default.
    /// </summary>
    public SortedSet<int> ListenPorts(IReadOnlyDictionary<string, string> environment)
    {
        var ports = new SortedSet<int>();
        foreach (var setting in OwnSettings.Where(s => s.Property.PropertyType == typeof(int) && s.Property.Name.EndsWith("Port", StringComparison.Ordinal)))
        {
            ports.Add(environment.TryGetValue(setting.Name, out var text)
                ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture)
                : (int)setting.Property.GetValue(Activator.CreateInstance(setting.OptionsType))!);
        }
        return ports;
    }

    /// <summary>The project files the published project depends on, itself included (repository-relative).</summary>
    public static List<string> ProjectClosure(string project)
    {
        var seen = new List<string>();
        void Visit(string relative)
        {
            relative = relative.Replace('\\', '/');
            if (seen.Contains(relative)) return;
            seen.Add(relative);
            var path = Repo.PathOf(relative);
            if (!File.Exists(path)) return;
            foreach (var reference in XDocument.Load(path).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")?.Value.Replace('\\', '/');
                if (include is null || reference.Attribute("Condition") is not null) continue;
                var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, include));
                Visit(Path.GetRelativePath(Repo.Root, full).Replace('\\', '/'));
            }
        }
        Visit(project);
        return seen;
    }

    private static IEnumerable<Assembly> Closure(Assembly root)
    {
        var seen = new Dictionary<string, Assembly> { [root.GetName().Name!] = root };
        var queue = new Queue<Assembly>([root]);
        while (queue.TryDequeue(out var assembly))
        {
            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (name.Name is null || !name.Name.StartsWith("CeleryKube.", StringComparison.Ordinal) || seen.ContainsKey(name.Name)) continue;
                var loaded = Assembly.Load(name);
                seen[name.Name] = loaded;
                queue.Enqueue(loaded);
            }
        }
        return seen.Values;
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }
}
