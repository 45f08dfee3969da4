namespace CeleryKube.Deploy.Tests;

/// <summary>skaffold.yaml against the repository and the minikube overlay.</summary>
public sealed class SkaffoldTests
{
    [Fact]
    public void Uses_the_v4beta14_schema_and_builds_three_docker_artifacts_from_the_repository_root()
    {
        Assert.Equal("skaffold/v4beta14", Yaml.Str(Skaffold.Config, "apiVersion"));
        Assert.Equal("Config", Yaml.Str(Skaffold.Config, "kind"));
        Assert.Equal(["celerykube/frontend", "celerykube/task-service", "celerykube/worker"], Skaffold.Artifacts.Select(a => a.Image).Order());
        foreach (var artifact in Skaffold.Artifacts)
        {
            Assert.Equal(".", artifact.Context);
            Assert.True(File.Exists(Repo.PathOf(artifact.Dockerfile)), $"{artifact}: {artifact.Dockerfile} does not exist");
        }
    }

    [Fact]
    public void Deploys_the_minikube_overlay_and_the_production_profile_its_overlay_without_list_index_patches()
    {
        Assert.Equal(["deploy/kustomize/overlays/minikube"], Yaml.Seq(Skaffold.Config, "manifests", "kustomize", "paths").Select(p => p?.ToString()));
        var production = Yaml.Maps(Skaffold.Config, "profiles").Single(p => Yaml.Str(p, "name") == "production");
        Assert.Equal(["deploy/kustomize/overlays/production"], Yaml.Seq(production, "manifests", "kustomize", "paths").Select(p => p?.ToString()));
        foreach (var profile in Yaml.Maps(Skaffold.Config, "profiles"))
        {
            // Profile patches address lists by index (/build/artifacts/0/...): an added artifact
            // silently retargets them.
            Assert.Null(Yaml.At(profile, "patches"));
        }
        foreach (var path in new[] { "deploy/kustomize/overlays/minikube", "deploy/kustomize/overlays/production" })
        {
            Assert.True(File.Exists(Repo.PathOf(Path.Combine(path, "kustomization.yaml"))), path);
        }
    }

    [Fact]
    public void Forwards_the_frontend_on_5000_and_task_service_on_5001_to_ports_their_services_expose()
    {
        var minikube = Renders.Get("overlays/minikube");
        var forwards = Yaml.Maps(Skaffold.Config, "portForward").ToList();
        foreach (var (service, port) in new[] { ("frontend", "5000"), ("task-service", "5001") })
        {
            var forward = forwards.SingleOrDefault(f => Yaml.Str(f, "resourceName") == service);
            Assert.NotNull(forward);
            Assert.Equal("service", Yaml.Str(forward, "resourceType"));
            Assert.Equal(port, Yaml.Str(forward, "port"));
            Assert.Equal(port, Yaml.Str(forward, "localPort"));
            var svc = minikube.Find("Service", service);
            Assert.NotNull(svc);
            Assert.Equal(Yaml.Str(svc!.Raw, "metadata", "namespace"), Yaml.Str(forward, "namespace"));
            Assert.Contains(port, Yaml.Maps(svc.Raw, "spec", "ports").Select(p => Yaml.Str(p, "port")));
        }
    }

    [Fact]
    public void The_minikube_overlay_tags_every_artifact_so_manual_builds_match()
    {
        // Without Skaffold, the README ("Run on Kubernetes (minikube)") builds celerykube/<name>:dev; Skaffold replaces
        // the tag with its own on deploy.
        var images = Renders.Get("overlays/minikube").Workloads.SelectMany(w => w.Containers).Select(c => Yaml.Str(c, "image")!).ToList();
        foreach (var artifact in Skaffold.Artifacts)
        {
            Assert.Contains(artifact.Image + ":dev", images);
        }
    }
}
