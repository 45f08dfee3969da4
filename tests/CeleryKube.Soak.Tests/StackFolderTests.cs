using CeleryKube.Protos.V1;
using CeleryKube.Testing;

namespace CeleryKube.Soak.Tests;

/// <summary>A test run leaves nothing behind in the temp folder: each stack removes its database and logs.</summary>
public sealed class StackFolderTests
{
    [Fact]
    public async Task A_disposed_stack_removes_its_folder_with_the_database_and_the_logs()
    {
        var stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 1)] });
        string folder, logFile;
        try
        {
            folder = stack.Folder;
            logFile = stack.Workers[0].LogFile;
            var id = (await stack.Tasks.SubmitLcsAsync(new SubmitLcsRequest { TextA = "leave no trace", TextB = "no trace left" })).Task.Id;
            await stack.WaitForFinalAsync(id, TimeSpan.FromSeconds(60));
            Assert.True(File.Exists(logFile), $"the worker's output should be in {logFile} while the stack runs");
        }
        finally
        {
            await stack.DisposeAsync();
        }
        Assert.False(Directory.Exists(folder), $"{folder} is still there after the stack was disposed");
    }
}
