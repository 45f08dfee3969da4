using System.Globalization;
using CeleryKube.Testing;

// Usage: dotnet run -c Release --project bench/CeleryKube.Bench.Soak -- [--minutes 10] [--kill-every-seconds 20] [--scale-out]
// --scale-out: the store on a private PostgreSQL (fsync off: test-only) behind two task-service
// replicas, one of them SIGKILLed, and a private three-node RabbitMQ cluster that loses a node.
// Exits 1 if any accepted task was lost or got two results, 0 otherwise.
string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var minutes = double.Parse(Arg("--minutes") ?? "10", CultureInfo.InvariantCulture);
var killEvery = double.Parse(Arg("--kill-every-seconds") ?? "20", CultureInfo.InvariantCulture);
var scaleOut = args.Contains("--scale-out");
await using var postgres = scaleOut ? await PrivatePostgres.StartAsync() : null;
await using var cluster = scaleOut ? await PrivateRabbitMqCluster.StartAsync() : null;
var options = new SoakOptions
{
    Cluster = cluster,
    Postgres = postgres is null ? null : await postgres.CreateDatabaseAsync("soak"),
    Duration = TimeSpan.FromMinutes(minutes),
    WorkerKillInterval = TimeSpan.FromSeconds(killEvery),
    Log = line => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}"),
};
var report = await new SoakDrill(options).RunAsync();
Console.WriteLine(report.Passed ? "SOAK PASSED: nothing lost, nothing duplicated" : "SOAK FAILED");
return report.Passed ? 0 : 1;
