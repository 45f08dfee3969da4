using Xunit;

namespace CeleryKube.Testing;

/// <summary>
/// Collection fixture for the process's <see cref="PrivateRabbitMqCluster.SharedAsync"/>: formed
/// before the collection's first test, stopped after its last (while the test host still runs;
/// the exit hook and the leftover clean-up are only the safety nets). Declare it in the test
/// assembly: <c>[CollectionDefinition("X")] class X : ICollectionFixture&lt;RabbitMqClusterFixture&gt;;</c>
/// one collection per assembly, since a stopped shared cluster does not start again.
/// </summary>
public sealed class RabbitMqClusterFixture : IAsyncLifetime
{
    /// <summary>The shared cluster.</summary>
    public PrivateRabbitMqCluster Cluster { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Cluster = await PrivateRabbitMqCluster.SharedAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => PrivateRabbitMqCluster.StopSharedAsync();
}

/// <summary>Collection fixture for the process's <see cref="PrivatePostgres.SharedAsync"/>; as <see cref="RabbitMqClusterFixture"/>.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    /// <summary>The shared server.</summary>
    public PrivatePostgres Server { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Server = await PrivatePostgres.SharedAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => PrivatePostgres.StopSharedAsync();
}

/// <summary>
/// Class fixture: a fresh database named after <typeparamref name="TTestClass"/> on the shared
/// server, for one test class (<c>IClassFixture&lt;PostgresDatabase&lt;MyTests&gt;&gt;</c>, in a
/// collection with <see cref="PostgresServerFixture"/>). Dropped when the class is done.
/// </summary>
public sealed class PostgresDatabase<TTestClass> : IAsyncLifetime
{
    /// <summary>The Npgsql connection string (<c>ConnectionStrings__Tasks</c>).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <inheritdoc />
    public async Task InitializeAsync() =>
        ConnectionString = await (await PrivatePostgres.SharedAsync()).CreateDatabaseAsync(typeof(TTestClass).Name);

    /// <inheritdoc />
    public async Task DisposeAsync() => await (await PrivatePostgres.SharedAsync()).DropDatabaseAsync(ConnectionString);
}
