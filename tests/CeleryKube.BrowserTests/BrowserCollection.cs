using Xunit;

namespace CeleryKube.BrowserTests;

/// <summary>
/// All browser test classes share one stack and run one after another, so stopping task-service
/// in one test affects no other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserStackFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "browser";
}
