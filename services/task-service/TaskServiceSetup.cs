using CeleryKube.Messaging;
using CeleryKube.ServiceDefaults;
using CeleryKube.TaskService.Api;
using CeleryKube.TaskService.Background;
using CeleryKube.TaskService.Broker;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using CeleryKube.TaskService.Persistence;
using Microsoft.Extensions.Options;

namespace CeleryKube.TaskService;

/// <summary>Wires task-service: options, store, broker, background loops, gRPC endpoints.</summary>
public static class TaskServiceSetup
{
    /// <summary>Registers everything task-service runs and configures its Kestrel ports.</summary>
    public static WebApplicationBuilder AddTaskService(this WebApplicationBuilder builder)
    {
        var listen = builder.AddServiceDefaults("task-service");
        var services = builder.Services;
        var config = builder.Configuration;
        var ports = services.AddValidatedOptions<TaskServicePorts>(config, TaskServicePorts.SectionName);
        services.AddValidatedOptions<RoutingOptions>(config, RoutingOptions.SectionName);
        var limits = services.AddValidatedOptions<LimitsOptions>(config, LimitsOptions.SectionName);
        services.AddValidatedOptions<LeasesOptions>(config, LeasesOptions.SectionName);
        services.AddValidatedOptions<WorkerRegistryOptions>(config, WorkerRegistryOptions.SectionName);
        services.AddSingleton<IValidateOptions<WorkerRegistryOptions>, WorkerRegistryValidation>();
        services.AddValidatedOptions<RetentionOptions>(config, RetentionOptions.SectionName);
        services.AddValidatedOptions<RabbitMqOptions>(config, RabbitMqOptions.SectionName);
        var declaration = services.AddValidatedOptions<QueueDeclarationOptions>(config, QueueDeclarationOptions.SectionName);
        var connectionStrings = services.AddValidatedOptions<ConnectionStringsOptions>(config, ConnectionStringsOptions.SectionName);
        var store = services.AddValidatedOptions<TaskStoreOptions>(config, TaskStoreOptions.SectionName);
        builder.AddResultSink();
        services.AddApiAuthentication(services.AddValidatedOptions<AuthOptions>(config, AuthOptions.SectionName));

        builder.ListenGrpc(listen, ports.PublicPort);
        builder.ListenGrpc(listen, ports.ResultSinkPort);
        builder.ListenHttp1(listen, ports.HttpApiPort);
        builder.ListenHttp1(listen, ports.MetricsPort);
        // Kestrel refuses bodies over 30 MB by default before gRPC's own limit applies (as UNKNOWN):
        // let gRPC's limit, which answers RESOURCE_EXHAUSTED, be the one that holds.
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes);
        // By default Kestrel hands every socket read and every response write to another work item (its
        // I/O queue), and each hand-off may wake a thread. Inline, the HTTP/2 framing runs on the thread
        // that finished the socket operation: on Linux always a thread-pool thread (the runtime posts socket
        // completions to the pool), so nothing runs on the epoll thread, and each gRPC call still runs as
        // its own work item. Three work items fewer per small task (docs/performance.md).
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        services.Configure<Grpc.AspNetCore.Server.GrpcServiceOptions>(o =>
        {
            o.MaxReceiveMessageSize = limits.MaxMessageBytes;
            o.MaxSendMessageSize = limits.MaxMessageBytes;
        });
        services.AddGrpc(o => o.Interceptors.Add<ErrorInterceptor>())
            // Errors carry a google.rpc.BadRequest; the JSON writer must know its type to render the detail.
            .AddJsonTranscoding(o => o.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.BadRequest.Descriptor))
            .AddServiceOptions<ResultSinkApi>(o => o.Interceptors.Add<BearerTokenInterceptor>());

        services.AddTaskStore(connectionStrings, store);
        services.AddSingleton<TaskMetrics>();
        services.AddSingleton<TaskRouter>();
        services.AddBrokerConnection(_ => new BrokerClient("task-service",
            (connection, logger, ct) => QueueTopology.DeclareAsync(connection, declaration.DeliveryLimit, logger, ct)));
        services.AddSingleton<QueueStatusReader>();
        services.AddSingleton<ClusterStatusReader>();
        services.AddSingleton<TaskWatchBroadcast>();
        services.AddSingleton<SubmitBytesInFlight>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskWatchBroadcast>());
        services.AddSingleton<ClusterGauges>();
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        services.AddHostedService<DeadLetterConsumer>();
        services.AddSingleton<LeaseReaper>();
        services.AddHostedService(sp => sp.GetRequiredService<LeaseReaper>());
        services.AddSingleton<RetentionSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionSweeper>());
        return builder;
    }

    /// <summary>Maps TaskService on the public port (and as JSON on the HTTP API port) and ResultSinkService on the workers' port only.</summary>
    public static WebApplication MapTaskService(this WebApplication app)
    {
        var ports = app.Services.GetRequiredService<IOptions<TaskServicePorts>>().Value;
        app.Services.GetRequiredService<ClusterGauges>();
        app.UseJsonBodyDefault(ports.HttpApiPort);
        app.UseRouting();
        app.UseLocalPortRestrictions();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGrpcService<TaskApi>().RequireLocalPort(ports.PublicPort, ports.HttpApiPort);
        app.MapGrpcService<ResultSinkApi>().RequireLocalPort(ports.ResultSinkPort);
        app.MapDefaultEndpoints();
        return app;
    }
}
