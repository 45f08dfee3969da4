namespace CeleryKube.Deploy.Tests;

/// <summary>
/// Runs each Dockerfile's build stage without Docker: its COPY instructions copy from the
/// repository (minus .dockerignore) into a private folder standing in for the image's file
/// system, and its RUN instructions (dotnet only) run there. A missing COPY, a project that does
/// not restore from the copied files, or a failing Release publish fails here as in the image.
/// </summary>
public sealed class PublishTests
{
    public static TheoryData<string> Images => Skaffold.ArtifactImages;

    [Theory]
    [MemberData(nameof(Images))]
    public void The_build_stage_publishes_the_entrypoint_the_way_the_dockerfile_runs_it(string image)
    {
        var dockerfile = new Dockerfile(Skaffold.ArtifactFor(image).Dockerfile);
        var root = Repo.NewTempFolder("image-" + image.Replace('/', '-'));
        try
        {
            string Host(string containerPath) => Path.Combine(root, containerPath.TrimStart('/'));
            var workdir = "/";
            foreach (var instruction in dockerfile.InStage(0))
            {
                switch (instruction.Keyword)
                {
                    case "FROM":
                    case "ENV":
                    case "ARG":
                        break;
                    case "WORKDIR":
                        workdir = instruction.Arguments.StartsWith('/') ? instruction.Arguments : workdir.TrimEnd('/') + "/" + instruction.Arguments;
                        Directory.CreateDirectory(Host(workdir));
                        break;
                    case "COPY":
                        Copy(instruction, workdir, Host);
                        break;
                    case "RUN":
                        var words = instruction.Words;
                        Assert.True(words[0] == "dotnet", $"{dockerfile.RelativePath} {instruction}: only dotnet commands are replayed here");
                        var arguments = words.Skip(1).Select(w => w.StartsWith('/') ? Host(w) : w).ToList();
                        var (code, output, errors) = Repo.Run("dotnet", arguments, Host(workdir), TimeSpan.FromMinutes(9));
                        Assert.True(code == 0, $"{dockerfile.RelativePath} {instruction} failed ({code}):\n{Tail(output)}\n{Tail(errors)}");
                        break;
                    default:
                        Assert.Fail($"{dockerfile.RelativePath} {instruction}: not replayed by this test; extend it");
                        break;
                }
            }
            // The final stage's COPY --from=build finds the entry point there.
            var copy = dockerfile.InStage(dockerfile.FinalStage).Single(i => i.Keyword == "COPY");
            var published = Host(copy.CopyParts.Sources.Single());
            var entry = dockerfile.Entrypoint[1];
            Assert.True(File.Exists(Path.Combine(published, entry)), $"{image}: {entry} not in the publish output");
            Assert.True(File.Exists(Path.Combine(published, Path.ChangeExtension(entry, ".runtimeconfig.json"))), $"{image}: no runtimeconfig.json");
            // Framework-dependent on the shared runtime of the aspnet image, not self-contained.
            Assert.False(File.Exists(Path.Combine(published, "System.Private.CoreLib.dll")), $"{image}: publish output is self-contained");
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    private static void Copy(Instruction instruction, string workdir, Func<string, string> host)
    {
        var (flags, sources, destination) = instruction.CopyParts;
        Assert.False(flags.ContainsKey("from"), $"{instruction}: COPY --from in the build stage is not replayed");
        var target = destination.StartsWith('/') ? destination : workdir.TrimEnd('/') + "/" + destination;
        foreach (var source in sources)
        {
            var from = Repo.PathOf(source);
            if (Directory.Exists(from))
            {
                // COPY dir/ dest/ copies the folder's contents, minus what .dockerignore leaves out.
                foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
                {
                    var relative = Path.GetRelativePath(Repo.Root, file).Replace('\\', '/');
                    if (DockerIgnore.Excludes(relative)) continue;
                    var to = Path.Combine(host(target), Path.GetRelativePath(from, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                    File.Copy(file, to, overwrite: true);
                }
            }
            else
            {
                Assert.True(File.Exists(from), $"{instruction}: {source} does not exist");
                var to = target.EndsWith('/') || sources.Count > 1 ? Path.Combine(host(target), Path.GetFileName(from)) : host(target);
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(from, to, overwrite: true);
            }
        }
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
