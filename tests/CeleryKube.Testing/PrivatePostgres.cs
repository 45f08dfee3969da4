using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace CeleryKube.Testing;

/// <summary>
/// A PostgreSQL cluster of the test run's own, made by <c>scripts/postgres</c> (Debian's binaries,
/// the newest installed version; run as user postgres): a free loopback port, its own folder,
/// never the packaged cluster or port 5432. One per test process (<see cref="SharedAsync"/>), one database per test
/// class (<see cref="CreateDatabaseAsync"/>).
/// </summary>
/// <remarks>
/// TEST-ONLY SETTINGS: fsync, synchronous_commit and full_page_writes are off, so a machine crash
/// could corrupt it and any figure measured on it is faster than a real server; say so next to
/// such a figure.
/// </remarks>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Purpose = "postgres";
    private const string Superuser = "postgres";
    private static readonly string ScriptPath = Path.Combine(RepoPaths.Root, "scripts", "postgres");
    private static readonly Lazy<Task<PrivatePostgres>> Shared = new(StartSharedAsync);
    private static int databases;

    private PrivatePostgres(string folder, int port)
    {
        Folder = folder;
        Port = port;
    }

    /// <summary>The cluster's folder: data, server log, unix socket.</summary>
    public string Folder { get; }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>initdb plus the first start, for reports.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>The server log, for failure messages.</summary>
    public string LogFile => Path.Combine(Folder, "server.log");

    /// <summary>The cluster of this test process, started on first use and stopped when the process exits.</summary>
    public static Task<PrivatePostgres> SharedAsync() => Shared.Value;

    /// <summary>Stops the shared server if it was started (the collection fixture calls this after its last test).</summary>
    public static async Task StopSharedAsync()
    {
        if (Shared.IsValueCreated && Shared.Value.IsCompletedSuccessfully) await (await Shared.Value).DisposeAsync();
    }

    /// <summary>Creates a cluster in a fresh folder, starts it and waits until it accepts connections.</summary>
    public static async Task<PrivatePostgres> StartAsync()
    {
        await LeftoverServers.StopOrphansAsync(Purpose, folder => StopFolderAsync(folder, "immediate"));
        var clock = Stopwatch.StartNew();
        var server = new PrivatePostgres(LeftoverServers.NewOwnedFolder(Purpose), FreePorts.Next());
        try
        {
            // Durability off: test-only (see remarks).
            await ExternalCommand.RunCheckedAsync(ScriptPath, ["start", server.Folder, server.Port.ToString(CultureInfo.InvariantCulture), "--test-only-no-fsync"]);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        server.StartupTime = clock.Elapsed;
        return server;
    }

    /// <summary>A connection string for database <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
    }.ConnectionString;

    /// <summary>
    /// Creates an empty database and returns its Npgsql connection string (<c>ConnectionStrings__Tasks</c>).
    /// <paramref name="purpose"/> (e.g. the test class) goes into the name, to find it in the server log.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string purpose = "test")
    {
        var cleaned = new string(purpose.ToLowerInvariant().Where(c => c is >= 'a' and <= 'z' or >= '0' and <= '9').Take(40).ToArray());
        var name = $"{(cleaned.Length > 0 ? cleaned : "test")}_{Interlocked.Increment(ref databases)}";
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            // One statement per command: CREATE DATABASE cannot run inside a transaction block.
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    /// <summary>Drops the database of <paramref name="connectionString"/>, closing whatever still uses it.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        // Pooled idle connections would keep the database busy; FORCE ends other sessions too.
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the server (fast shutdown) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await StopFolderAsync(Folder, "fast");
        RepoPaths.DeleteTempFolder(Folder);
    }

    private static Task StopFolderAsync(string folder, string mode) => ExternalCommand.RunCheckedAsync(ScriptPath, ["stop", folder, mode]);

    private static async Task<PrivatePostgres> StartSharedAsync()
    {
        var server = await StartAsync();
        ProcessJanitor.OnExit(() => server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(60)));
        return server;
    }
}
