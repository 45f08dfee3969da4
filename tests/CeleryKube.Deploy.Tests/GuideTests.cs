using System.Text.RegularExpressions;

namespace CeleryKube.Deploy.Tests;

/// <summary>
/// The README's "Run on Kubernetes (minikube)" section against the manifests: every resource,
/// port, label, image, path and gRPC method its commands name must exist, so the walkthrough
/// cannot drift from what the overlays deploy.
/// </summary>
public sealed partial class GuideTests
{
    private const string Heading = "## Run on Kubernetes (minikube)";

    /// <summary>The walkthrough: the README from its heading to the next top-level section.</summary>
    private static readonly string Guide = ReadGuide();

    private static string ReadGuide()
    {
        var readme = File.ReadAllText(Repo.PathOf("README.md"));
        var start = readme.IndexOf(Heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{Heading}' section");
        var end = readme.IndexOf("\n## ", start + Heading.Length, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }

    private static Render Minikube => Renders.Get("overlays/minikube");

    [Fact]
    public void Every_resource_it_names_exists_in_the_minikube_overlay()
    {
        var kinds = new Dictionary<string, string> { ["deployment"] = "Deployment", ["statefulset"] = "StatefulSet", ["service"] = "Service", ["pod"] = "Pod" };
        var named = ResourceReference().Matches(Guide).ToList();
        Assert.NotEmpty(named);
        foreach (var match in named)
        {
            var kind = kinds[match.Groups["kind"].Value];
            var name = match.Groups["name"].Value;
            if (kind == "Pod" || name.StartsWith('<')) continue;
            Assert.True(Minikube.Find(kind, name) is not null, $"the README walkthrough names {match.Value}, which overlays/minikube does not deploy");
        }
        foreach (var match in SecretReference().Matches(Guide).Cast<Match>())
        {
            Assert.True(Minikube.Find("Secret", match.Groups["name"].Value) is not null, $"the README walkthrough reads {match.Value}");
        }
        Assert.Contains("kubectl scale deployment/worker-large --replicas=4", Guide, StringComparison.Ordinal);
    }

    [Fact]
    public void Port_forwards_target_ports_that_exist()
    {
        foreach (var match in PortForward().Matches(Guide).Cast<Match>())
        {
            var kind = match.Groups["kind"].Value;
            var name = match.Groups["name"].Value;
            var remote = match.Groups["remote"].Value;
            if (kind == "service")
            {
                var service = Minikube.Find("Service", name);
                Assert.NotNull(service);
                Assert.Contains(remote, Yaml.Maps(service!.Raw, "spec", "ports").Select(p => Yaml.Str(p, "port")));
            }
            else if (kind == "deployment")
            {
                var deployment = Minikube.Find("Deployment", name);
                Assert.NotNull(deployment);
                Assert.Contains(remote, deployment!.Containers.SelectMany(c => Yaml.Maps(c, "ports")).Select(p => Yaml.Str(p, "containerPort")));
            }
        }
    }

    [Fact]
    public void Label_selectors_select_pods_and_the_namespace_is_the_overlays()
    {
        foreach (var match in LabelSelector().Matches(Guide).Cast<Match>())
        {
            var (key, value) = (match.Groups["key"].Value, match.Groups["value"].Value);
            Assert.True(Minikube.Workloads.Any(w => Yaml.Str(w.Raw, "spec", "template", "metadata", "labels", key) == value),
                $"the README walkthrough selects -l {key}={value}, which matches no pod");
        }
        var ns = NamespaceFlag().Match(Guide);
        Assert.True(ns.Success);
        Assert.All(Minikube.Objects.Where(o => o.Kind != "Namespace"), o => Assert.Equal(ns.Groups["ns"].Value, Yaml.Str(o.Raw, "metadata", "namespace")));
    }

    [Fact]
    public void Docker_builds_and_kustomize_paths_match_skaffold_and_the_overlay()
    {
        var builds = DockerBuild().Matches(Guide).Cast<Match>().ToList();
        Assert.Equal(Skaffold.Artifacts.Count, builds.Count);
        var images = Minikube.Workloads.SelectMany(w => w.Containers).Select(c => Yaml.Str(c, "image")).ToHashSet();
        foreach (var build in builds)
        {
            var artifact = Skaffold.Artifacts.SingleOrDefault(a => a.Dockerfile == build.Groups["file"].Value);
            Assert.True(artifact is not null, $"the README walkthrough builds {build.Groups["file"].Value}, which is no Skaffold artifact's Dockerfile");
            Assert.Equal(artifact!.Image + ":dev", build.Groups["tag"].Value);
            Assert.Contains(build.Groups["tag"].Value, images);
        }
        foreach (var path in KustomizePath().Matches(Guide).Cast<Match>().Select(m => m.Groups["path"].Value))
        {
            Assert.True(File.Exists(Repo.PathOf(Path.Combine(path, "kustomization.yaml"))), $"the README walkthrough applies {path}, which has no kustomization.yaml");
        }
    }

    [Fact]
    public void Every_grpc_method_it_calls_is_in_the_protos()
    {
        var protos = string.Join('\n', Directory.GetFiles(Repo.PathOf("protos/celerykube/v1"), "*.proto").Select(File.ReadAllText));
        var calls = GrpcMethod().Matches(Guide).Cast<Match>().ToList();
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            var service = call.Groups["service"].Value;
            var method = call.Groups["method"].Value;
            // A service block ends at the first closing brace at the start of a line (rpc options nest braces).
            var body = Regex.Match(protos, $@"service {service} \{{(?<body>.*?)\n\}}", RegexOptions.Singleline);
            Assert.True(body.Success, $"the README walkthrough calls {service}, which no proto defines");
            Assert.Matches($@"rpc {method}\(", body.Groups["body"].Value);
        }
    }

    [GeneratedRegex(@"\b(?<kind>deployment|statefulset|service|pod)/(?<name>[a-z0-9][a-z0-9-]*[a-z0-9]|<[^>]+>)")]
    private static partial Regex ResourceReference();

    [GeneratedRegex(@"kubectl get secret (?<name>[a-z0-9-]+)")]
    private static partial Regex SecretReference();

    [GeneratedRegex(@"port-forward (?<kind>service|deployment|pod)/(?<name>[^\s]+) (?<local>\d+):(?<remote>\d+)")]
    private static partial Regex PortForward();

    [GeneratedRegex(@"-l (?<key>[a-z0-9./-]+)=(?<value>[a-z0-9-]+)")]
    private static partial Regex LabelSelector();

    [GeneratedRegex(@"--namespace=(?<ns>[a-z0-9-]+)")]
    private static partial Regex NamespaceFlag();

    [GeneratedRegex(@"docker build -f (?<file>\S+) -t (?<tag>\S+) \.")]
    private static partial Regex DockerBuild();

    [GeneratedRegex(@"-k (?<path>deploy/kustomize/\S+)")]
    private static partial Regex KustomizePath();

    [GeneratedRegex(@"celerykube\.v1\.(?<service>\w+Service)/(?<method>\w+)")]
    private static partial Regex GrpcMethod();
}
