namespace CeleryKube.Deploy.Tests;

/// <summary>The Dockerfiles, read as text: what they copy, restore, publish and run.</summary>
public sealed class DockerfileTests
{
    public static TheoryData<string> Images => Skaffold.ArtifactImages;

    [Theory]
    [MemberData(nameof(Images))]
    public void Every_path_it_copies_from_the_context_exists_and_is_not_docker_ignored(string image)
    {
        var dockerfile = new Dockerfile(Skaffold.ArtifactFor(image).Dockerfile);
        foreach (var copy in dockerfile.Instructions.Where(i => i.Keyword is "COPY" or "ADD"))
        {
            var (flags, sources, _) = copy.CopyParts;
            if (flags.ContainsKey("from")) continue;
            foreach (var source in sources)
            {
                var path = Repo.PathOf(source);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{dockerfile.RelativePath} {copy}: {source} does not exist");
                Assert.False(DockerIgnore.Excludes(source.TrimEnd('/')), $"{dockerfile.RelativePath} {copy}: .dockerignore excludes {source}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Restores_from_project_files_alone_then_publishes_the_project_it_runs(string image)
    {
        var dockerfile = new Dockerfile(Skaffold.ArtifactFor(image).Dockerfile);
        var build = dockerfile.InStage(0).ToList();
        var restore = build.FindIndex(i => i.Keyword == "RUN" && i.Words.Take(2).SequenceEqual(["dotnet", "restore"]));
        Assert.True(restore >= 0, $"{dockerfile.RelativePath}: no RUN dotnet restore in the build stage");
        var project = dockerfile.PublishedProject;
        Assert.True(File.Exists(Repo.PathOf(project)), $"{dockerfile.RelativePath}: publishes {project}, which does not exist");
        Assert.Contains(project, build[restore].Words);

        // Before the restore: only the files restore reads, so a source edit keeps the cached
        // package layer. Every project of the closure and the central build files must be there.
        var copiedBeforeRestore = build.Take(restore).Where(i => i.Keyword == "COPY").SelectMany(i => i.CopyParts.Sources).ToList();
        var needed = ServiceContract.ProjectClosure(project).Concat(["global.json", "Directory.Build.props", "Directory.Packages.props"]);
        foreach (var file in needed)
        {
            Assert.True(copiedBeforeRestore.Contains(file), $"{dockerfile.RelativePath}: copy {file} before `dotnet restore`");
        }
        Assert.All(copiedBeforeRestore, f => Assert.True(f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal) || f == "global.json",
            $"{dockerfile.RelativePath}: {f} is copied before restore; sources belong after it"));

        // After the restore: each project's folder, then publish without restoring again.
        var publish = build.IndexOf(dockerfile.PublishInstruction);
        Assert.True(publish > restore, $"{dockerfile.RelativePath}: publish must come after restore");
        var copiedAfter = build.Skip(restore).Take(publish - restore).Where(i => i.Keyword == "COPY").SelectMany(i => i.CopyParts.Sources).ToList();
        foreach (var folder in ServiceContract.ProjectClosure(project).Select(p => Path.GetDirectoryName(p)!.Replace('\\', '/') + "/"))
        {
            Assert.True(copiedAfter.Contains(folder), $"{dockerfile.RelativePath}: copy {folder} before publishing");
        }
        var words = dockerfile.PublishInstruction.Words;
        Assert.Contains("--no-restore", words);
        Assert.Equal("Release", words[words.IndexOf("-c") + 1]);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void The_final_image_is_the_chiseled_aspnet_runtime_as_uid_1000_listening_on_all_addresses(string image)
    {
        var artifact = Skaffold.ArtifactFor(image);
        var dockerfile = new Dockerfile(artifact.Dockerfile);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", dockerfile.BaseImages[0], StringComparison.Ordinal);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled", dockerfile.BaseImages[dockerfile.FinalStage]);
        var final = dockerfile.InStage(dockerfile.FinalStage).ToList();
        Assert.Equal("1000:1000", final.Last(i => i.Keyword == "USER").Arguments);
        Assert.Equal("1000", dockerfile.FinalEnv["APP_UID"]);
        Assert.Equal("0.0.0.0", dockerfile.FinalEnv["Listen__Address"]);
        // The manifests make the root read-only and mount an emptyDir on /tmp (checked in ManifestTests).
        Assert.Equal("/tmp", dockerfile.FinalEnv["HOME"]);
        // Only the publish output crosses into the final stage: no SDK, no sources.
        var fromBuild = final.Where(i => i.Keyword == "COPY").ToList();
        Assert.All(fromBuild, c => Assert.Equal(dockerfile.StageNames[0], c.CopyParts.Flags.GetValueOrDefault("from")));
        var output = dockerfile.PublishInstruction.Words[dockerfile.PublishInstruction.Words.IndexOf("-o") + 1];
        Assert.Equal([output], fromBuild.SelectMany(c => c.CopyParts.Sources));
        var assembly = Path.GetFileNameWithoutExtension(dockerfile.PublishedProject);
        Assert.Equal(["dotnet", assembly + ".dll"], dockerfile.Entrypoint);
    }

    [Fact]
    public void The_dockerignore_keeps_host_build_output_out_of_the_context()
    {
        Assert.True(File.Exists(Repo.PathOf(".dockerignore")));
        Assert.True(DockerIgnore.Excludes("services/worker/bin/Release/net10.0/CeleryKube.Worker.dll"));
        Assert.True(DockerIgnore.Excludes("services/worker/obj/project.assets.json"));
        Assert.True(DockerIgnore.Excludes(".git/HEAD"));
        Assert.False(DockerIgnore.Excludes("services/worker/Program.cs"));
        Assert.False(DockerIgnore.Excludes("protos/celerykube/v1/task.proto"));
    }
}
