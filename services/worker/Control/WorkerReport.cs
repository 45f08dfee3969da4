using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using CeleryKube.Messaging;
using CeleryKube.ServiceDefaults;
using CeleryKube.Worker.Options;
using CeleryKube.Worker.Sink;
using Microsoft.Extensions.Options;

namespace CeleryKube.Worker.Control;

/// <summary>The <c>celery report</c> text: software versions, runtime and effective settings, secrets redacted.</summary>
public sealed class WorkerReport(WorkerOptions settings, IOptions<RabbitMqOptions> rabbitMq, IOptions<ResultSinkOptions> resultSink,
    IOptions<ListenOptions> listen, ResultSinkToken token, HeartbeatSchedule heartbeats, IHostEnvironment environment)
{
    public string Text()
    {
        var text = new StringBuilder();
        void Line(string name, object? value) => text.Append(name.PadRight(28)).Append(' ').Append(value).Append('\n');

        Line("CeleryKube.Worker", Version(typeof(WorkerReport).Assembly));
        Line("CeleryKube.Lcs", Version(typeof(Lcs.LongestCommonSubstring).Assembly));
        Line(".NET", RuntimeInformation.FrameworkDescription);
        Line("RabbitMQ.Client", Version(typeof(RabbitMQ.Client.IConnection).Assembly));
        Line("Grpc.Net.Client", Version(typeof(Grpc.Net.Client.GrpcChannel).Assembly));
        Line("OS", $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        Line("processors", Environment.ProcessorCount);
        Line("environment", environment.EnvironmentName);
        text.Append('\n');
        Line("Worker__Id", settings.Id);
        Line("Worker__Queue", $"{QueueTopology.RoutingKey(settings.TaskQueue)} ({settings.QueueName})");
        Line("Worker__Concurrency", settings.Concurrency);
        Line("Worker__TimeLimit", $"{settings.TimeLimit:c} (broker consumer timeout {QueueTopology.ConsumerTimeout:c})");
        Line("Worker__ShutdownGrace", settings.ShutdownGrace.ToString("c"));
        Line("heartbeat interval", heartbeats.Lease is { } lease
            ? $"{heartbeats.Interval:c} (task-service's lease {lease:c} / {Protos.LeaseRules.HeartbeatsPerLease})"
            : $"{heartbeats.Interval:c} (until task-service tells its lease)");
        Line("Worker__ControlPort", settings.ControlPort);
        Line("Worker__MetricsPort", settings.MetricsPort);
        Line("Worker__AdvertisedAddress", settings.AdvertisedAddress);
        Line("Listen__Address", listen.Value.Address);
        Line("RabbitMq__Uri", rabbitMq.Value.RedactedUri);
        Line("RabbitMq__Endpoints", string.IsNullOrWhiteSpace(rabbitMq.Value.Endpoints) ? "(unset: the URI's host)" : rabbitMq.Value.Endpoints);
        Line("ResultSink__Url", resultSink.Value.Url);
        Line("ResultSink__Token", token);
        return text.ToString();
    }

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";
}
