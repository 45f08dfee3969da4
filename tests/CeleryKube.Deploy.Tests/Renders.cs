using System.Collections.Concurrent;

namespace CeleryKube.Deploy.Tests;

/// <summary>One Kubernetes object of a rendered manifest set.</summary>
internal sealed record K8sObject(string Kind, string Name, Dictionary<object, object?> Raw)
{
    public override string ToString() => $"{Kind}/{Name}";

    /// <summary>The pod template's spec of a Deployment or StatefulSet, else null.</summary>
    public Dictionary<object, object?>? PodSpec => Kind is "Deployment" or "StatefulSet" ? Yaml.Map(Raw, "spec", "template", "spec") : null;

    public IEnumerable<Dictionary<object, object?>> Containers =>
        PodSpec is { } spec ? Yaml.Maps(spec, "containers").Concat(Yaml.Maps(spec, "initContainers")) : [];
}

/// <summary>A rendered kustomize target: an overlay, optionally with extra components.</summary>
internal sealed record Render(string Name, IReadOnlyList<K8sObject> Objects, string Text)
{
    public IEnumerable<K8sObject> Workloads => Objects.Where(o => o.PodSpec is not null);

    public IEnumerable<K8sObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public K8sObject? Find(string kind, string name) => Objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);

    public bool HasKeda => OfKind("ScaledObject").Any();

    public bool HasNetworkPolicies => OfKind("NetworkPolicy").Any(o => o.Name == "default-deny-ingress");

    public bool IsProduction => Name.Split('+')[0] == "overlays/production";
}

/// <summary>
/// Every combination the repository supports: base, the minikube overlay, each with every
/// subset of the components, and the production overlay (which already includes both).
/// Rendered by the real <c>kubectl kustomize</c>, each once per test run.
/// </summary>
internal static class Renders
{
    private const string Kustomize = "deploy/kustomize";
    private static readonly string[] Components = ["keda", "network-policies"];
    private static readonly ConcurrentDictionary<string, Lazy<Render>> Cache = new();

    public static IEnumerable<string> Names
    {
        get
        {
            foreach (var target in new[] { "base", "overlays/minikube" })
            {
                foreach (var subset in Subsets(Components))
                {
                    yield return subset.Length == 0 ? target : $"{target}+{string.Join('+', subset)}";
                }
            }
            yield return "overlays/production";
        }
    }

    public static TheoryData<string> All
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Names) data.Add(name);
            return data;
        }
    }

    public static Render Get(string name) => Cache.GetOrAdd(name, n => new Lazy<Render>(() => RenderNow(n))).Value;

    private static Render RenderNow(string name)
    {
        var parts = name.Split('+');
        var target = Repo.PathOf(Path.Combine(Kustomize, parts[0]));
        var dir = target;
        if (parts.Length > 1)
        {
            // A throw-away kustomization that adds the components to the target, exactly as an
            // overlay of a user would.
            dir = Repo.NewTempFolder("kustomize");
            var lines = new List<string>
            {
                "apiVersion: kustomize.config.k8s.io/v1beta1",
                "kind: Kustomization",
                "resources:",
                "  - " + Path.GetRelativePath(dir, target),
                "components:",
            };
            lines.AddRange(parts.Skip(1).Select(c => "  - " + Path.GetRelativePath(dir, Repo.PathOf(Path.Combine(Kustomize, "components", c)))));
            File.WriteAllLines(Path.Combine(dir, "kustomization.yaml"), lines);
        }
        int code;
        string output, errors;
        try
        {
            (code, output, errors) = Repo.Run("kubectl", ["kustomize", dir], Repo.Root, TimeSpan.FromMinutes(1));
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("these tests render with `kubectl kustomize` (kubectl with kustomize v5); kubectl is not on PATH", ex);
        }
        Assert.True(code == 0, $"kubectl kustomize {name} failed:\n{errors}");
        var objects = Yaml.Documents(output)
            .Select(d => new K8sObject(Yaml.Str(d, "kind") ?? "", Yaml.Str(d, "metadata", "name") ?? "", d))
            .ToList();
        Assert.NotEmpty(objects);
        return new Render(name, objects, output);
    }

    private static IEnumerable<string[]> Subsets(string[] items) =>
        Enumerable.Range(0, 1 << items.Length).Select(mask => items.Where((_, i) => (mask & (1 << i)) != 0).ToArray());
}
