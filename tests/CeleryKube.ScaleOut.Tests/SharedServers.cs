using CeleryKube.Testing;

namespace CeleryKube.ScaleOut.Tests;

/// <summary>The tests that use this run's shared PostgreSQL server and RabbitMQ cluster, stopped after the last of them.</summary>
[CollectionDefinition(Name)]
public sealed class SharedServers : ICollectionFixture<RabbitMqClusterFixture>, ICollectionFixture<PostgresServerFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "shared servers";
}
