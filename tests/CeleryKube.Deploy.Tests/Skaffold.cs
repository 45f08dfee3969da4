namespace CeleryKube.Deploy.Tests;

/// <summary>One image Skaffold builds.</summary>
internal sealed record Artifact(string Image, string Context, string Dockerfile)
{
    public override string ToString() => Image;
}

/// <summary>skaffold.yaml, parsed.</summary>
internal static class Skaffold
{
    public static Dictionary<object, object?> Config { get; } =
        Yaml.Documents(File.ReadAllText(Repo.PathOf("skaffold.yaml"))).Single();

    public static IReadOnlyList<Artifact> Artifacts { get; } = Yaml.Maps(Config, "build", "artifacts")
        .Select(a => new Artifact(
            Yaml.Str(a, "image") ?? throw new InvalidOperationException("artifact without image"),
            Yaml.Str(a, "context") ?? ".",
            Yaml.Str(a, "docker", "dockerfile") ?? "Dockerfile"))
        .ToList();

    public static TheoryData<string> ArtifactImages
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var artifact in Artifacts) data.Add(artifact.Image);
            return data;
        }
    }

    public static Artifact ArtifactFor(string image) => Artifacts.Single(a => a.Image == image);

    /// <summary>The repository part of an image reference: no tag, no digest.</summary>
    public static string ImageName(string reference)
    {
        var at = reference.IndexOf('@');
        if (at >= 0) reference = reference[..at];
        var slash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        return colon > slash ? reference[..colon] : reference;
    }

    /// <summary>The Skaffold artifact a container image comes from, or null for a third-party image.</summary>
    public static Artifact? ArtifactOf(string reference) => Artifacts.FirstOrDefault(a => a.Image == ImageName(reference));
}
