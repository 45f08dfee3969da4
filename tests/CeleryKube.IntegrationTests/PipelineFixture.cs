using CeleryKube.Testing;

namespace CeleryKube.IntegrationTests;

/// <summary>The everyday stack: one small worker and one large worker (concurrency 2, as in the original).</summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    public CeleryKubeStack Stack { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Stack = await CeleryKubeStack.StartAsync(new StackOptions { Workers = [("small", 2), ("large", 2)] });

    public Task DisposeAsync() => Stack.DisposeAsync().AsTask();
}
