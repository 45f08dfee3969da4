using CeleryKube.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace CeleryKube.ScaleOut.Tests;

/// <summary>The private PostgreSQL cluster: one per test run, a fresh database per test class, nothing left behind.</summary>
[Collection(SharedServers.Name)]
public sealed class PrivatePostgresTests(PostgresServerFixture postgres, PostgresDatabase<PrivatePostgresTests> database, ITestOutputHelper output)
    : IClassFixture<PostgresDatabase<PrivatePostgresTests>>
{
    [Fact]
    public async Task The_class_database_is_named_after_the_class_and_accepts_connections()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        Assert.StartsWith("privatepostgrestests_", connection.Database, StringComparison.Ordinal);
        Assert.Equal(1, await new NpgsqlCommand("SELECT 1", connection).ExecuteScalarAsync());
    }

    [Fact]
    public async Task Each_database_is_fresh_and_separate_on_a_test_only_server()
    {
        var server = postgres.Server;
        output.WriteLine($"PostgreSQL initdb + start: {server.StartupTime.TotalSeconds:0.0} s (fsync=off: test-only) in {server.Folder}");
        var first = await server.CreateDatabaseAsync(nameof(PrivatePostgresTests));
        var second = await server.CreateDatabaseAsync(nameof(PrivatePostgresTests));
        Assert.NotEqual(first, second);

        await using (var connection = new NpgsqlConnection(first))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE tasks (id text PRIMARY KEY); INSERT INTO tasks VALUES ('a')", connection).ExecuteNonQueryAsync();
            Assert.Equal("off", await new NpgsqlCommand("SHOW fsync", connection).ExecuteScalarAsync());
            Assert.True(connection.PostgreSqlVersion.Major >= 15, $"server version {connection.PostgreSqlVersion}");
        }
        await using (var connection = new NpgsqlConnection(second))
        {
            await connection.OpenAsync();
            var error = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand("SELECT count(*) FROM tasks", connection).ExecuteScalarAsync());
            Assert.Equal(PostgresErrorCodes.UndefinedTable, error.SqlState);
        }
    }

    [Fact]
    public async Task A_dropped_database_is_gone_even_with_pooled_connections_open()
    {
        var server = postgres.Server;
        var database = await server.CreateDatabaseAsync("dropped");
        await using (var connection = new NpgsqlConnection(database)) await connection.OpenAsync(); // leaves one in the pool
        await server.DropDatabaseAsync(database);
        await using var again = new NpgsqlConnection(database);
        var error = await Assert.ThrowsAsync<PostgresException>(() => again.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidCatalogName, error.SqlState);
    }

    [Fact]
    public async Task A_server_left_by_a_killed_test_run_is_stopped_by_the_next_start()
    {
        await using var orphan = await PrivatePostgres.StartAsync();
        var postmaster = int.Parse(File.ReadLines(Path.Combine(orphan.Folder, "data", "postmaster.pid")).First());
        LeftoverServers.MarkOrphaned(orphan.Folder);

        await using var next = await PrivatePostgres.StartAsync();

        Assert.False(Directory.Exists(orphan.Folder), "the orphan's folder should be gone");
        // pg_ctl returns once the postmaster removed its pid file, a moment before the process is gone.
        await Eventually.True(() => Task.FromResult(!ProcStatus.IsRunning(postmaster)), TimeSpan.FromSeconds(10), $"the orphan's postmaster {postmaster} to exit");
        await using var connection = new NpgsqlConnection(next.ConnectionString("postgres"));
        await connection.OpenAsync();
    }
}
