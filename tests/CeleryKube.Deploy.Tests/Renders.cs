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

    /// <summary>True when <paramref name="component"/> is part of the render (production includes every component).</summary>
    public bool Includes(string component) => IsProduction || Name.Split('+').Skip(1).Contains(component);

    /// <summary>The CloudNativePG cluster holding the task store (components/postgres-cnpg), if any.</summary>
    public K8sObject? PostgresCluster => Objects.SingleOrDefault(o => o.Kind == "Cluster" && Yaml.Str(o.Raw, "apiVersion")?.StartsWith("postgresql.cnpg.io/", StringComparison.Ordinal) == true);

    /// <summary>The operator-run RabbitMQ cluster (components/rabbitmq-cluster), if any.</summary>
    public K8sObject? RabbitmqCluster => Find("RabbitmqCluster", "rabbitmq");

    /// <summary>Pods an operator creates from this render's custom resources (not rendered as workloads).</summary>
    public IEnumerable<OperatorPods> OperatorPods => OperatorManaged.PodsOf(this);

    /// <summary>Secrets an operator creates from this render's custom resources, with their keys.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> OperatorSecrets => OperatorManaged.SecretsOf(this);
}

/// <summary>Pods an operator runs: their labels and named container ports, as the operator documents them.</summary>
internal sealed record OperatorPods(string Owner, IReadOnlyDictionary<string, string> Labels, IReadOnlySet<string> PortNames);

/// <summary>
/// What the two operators create from a custom resource, as their sources define it: the RabbitMQ
/// Cluster Operator (internal/resource: pods labelled app.kubernetes.io/name=NAME with ports epmd,
/// amqp, management, prometheus; Secret NAME-default-user) and CloudNativePG (pods labelled
/// cnpg.io/cluster=NAME with ports postgresql 5432, status 8000, metrics 9187; pkg/specs/secrets.go:
/// Secret NAME-app).
/// </summary>
internal static class OperatorManaged
{
    public static IEnumerable<OperatorPods> PodsOf(Render r)
    {
        if (r.RabbitmqCluster is { } rabbit)
        {
            yield return new OperatorPods(rabbit.ToString(), new Dictionary<string, string> { ["app.kubernetes.io/name"] = rabbit.Name },
                new HashSet<string> { "epmd", "amqp", "management", "prometheus" });
        }
        if (r.PostgresCluster is { } postgres)
        {
            yield return new OperatorPods(postgres.ToString(), new Dictionary<string, string> { ["cnpg.io/cluster"] = postgres.Name },
                new HashSet<string> { "postgresql", "5432", "status", "8000", "metrics", "9187" });
        }
    }

    public static IReadOnlyDictionary<string, IReadOnlySet<string>> SecretsOf(Render r)
    {
        var secrets = new Dictionary<string, IReadOnlySet<string>>();
        if (r.RabbitmqCluster is { } rabbit)
        {
            secrets[$"{rabbit.Name}-default-user"] = new HashSet<string> { "username", "password", "host", "port", "provider", "type", "default_user.conf" };
        }
        if (r.PostgresCluster is { } postgres)
        {
            secrets[$"{postgres.Name}-app"] = new HashSet<string>
                { "username", "user", "password", "dbname", "host", "port", "pgpass", "uri", "jdbc-uri", "fqdn-uri", "fqdn-jdbc-uri" };
        }
        return secrets;
    }
}

/// <summary>
/// Every combination the repository supports: base, the minikube overlay, each with every
/// subset of the components, and the production overlay (which already includes all of them).
/// Rendered by the real <c>kubectl kustomize</c>, each once per test run.
/// </summary>
internal static class Renders
{
    private const string Kustomize = "deploy/kustomize";
    private static readonly string[] Components = ["keda", "network-policies", "monitoring", "postgres-cnpg", "rabbitmq-cluster"];
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
