using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;
using CeleryKube.Worker.Consuming;
using CeleryKube.Worker.Control;
using CeleryKube.Worker.Options;
using CeleryKube.Worker.Sink;
using CeleryKube.Worker.State;
using Microsoft.Extensions.Options;

namespace CeleryKube.Worker;

/// <summary>Wires the worker: options, ResultSink client, consumer, heartbeats, WorkerControlService.</summary>
public static class WorkerSetup
{
    /// <summary>Maps <c>--queue small|large</c> onto <c>Worker__Queue</c>.</summary>
    public static readonly IDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--queue"] = $"{WorkerOptions.SectionName}:{nameof(WorkerOptions.Queue)}",
    };

    /// <summary>Registers everything the worker runs and configures its two Kestrel ports.</summary>
    public static WebApplicationBuilder AddWorker(this WebApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddCommandLine(args, SwitchMappings);
        var listen = builder.AddServiceDefaults("worker");
        var services = builder.Services;
        var config = builder.Configuration;
        var worker = services.AddWorkerOptions(config, WorkerHost.Current);
        services.AddValidatedOptions<RabbitMqOptions>(config, RabbitMqOptions.SectionName);
        builder.AddResultSink();

        builder.ListenGrpc(listen, worker.ControlPort);
        builder.ListenHttp1(listen, worker.MetricsPort);
        // Running jobs get the grace period; the host must wait for it plus the requeueing after it.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = worker.ShutdownGrace + JobConsumer.AbandonWait + TimeSpan.FromSeconds(5));

        services.AddGrpcClient<ResultSinkService.ResultSinkServiceClient>((sp, o) =>
                o.Address = new Uri(sp.GetRequiredService<IOptions<ResultSinkOptions>>().Value.Url))
            .ConfigureChannel(c =>
            {
                c.ServiceConfig = ResultSinkClient.RetryingServiceConfig;
                c.MaxReconnectBackoff = GrpcRetry.MaxReconnectBackoff;
            });
        services.AddSingleton<ResultSinkStream>();
        services.AddSingleton<HeartbeatSchedule>();
        services.AddSingleton(sp => new ResultSinkClient(sp.GetRequiredService<ResultSinkService.ResultSinkServiceClient>(),
            sp.GetRequiredService<ResultSinkToken>(), sp.GetRequiredService<HeartbeatSchedule>(),
            worker.ReportStream ? sp.GetRequiredService<ResultSinkStream>() : null));
        services.AddSingleton(sp => SinkRetryBudgets.For(sp.GetRequiredService<WorkerOptions>().TimeLimit));
        services.AddSingleton<WorkerState>();
        services.AddSingleton<WorkerMetrics>();
        services.AddSingleton<WorkerReport>();
        services.AddSingleton<JobHandler>();
        services.AddBrokerConnection(sp =>
        {
            var settings = sp.GetRequiredService<WorkerOptions>();
            return new BrokerClient($"celerykube-worker {settings.Id}",
                (connection, logger, ct) => QueueTopology.AwaitDeclaredAsync(connection, settings.QueueName, logger, ct));
        });
        // Hosted services stop in reverse order: the consumer drains first while heartbeats keep leases alive.
        services.AddHostedService<HeartbeatLoop>();
        services.AddHostedService<JobConsumer>();
        return builder;
    }

    /// <summary>Maps WorkerControlService on the control port only, plus health, reflection and <c>/metrics</c>.</summary>
    public static WebApplication MapWorker(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<WorkerOptions>();
        app.Services.GetRequiredService<WorkerMetrics>();
        app.UseRouting();
        app.UseLocalPortRestrictions();
        app.MapGrpcService<WorkerControlApi>().RequireLocalPort(settings.ControlPort);
        app.MapDefaultEndpoints();
        return app;
    }
}
