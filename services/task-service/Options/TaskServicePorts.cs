using System.ComponentModel.DataAnnotations;

namespace CeleryKube.TaskService.Options;

/// <summary>Ports of task-service (<c>TaskService__*</c>).</summary>
public sealed class TaskServicePorts
{
    public const string SectionName = "TaskService";

    /// <summary>Public gRPC: TaskService, reflection, health (HTTP/2 only).</summary>
    [Range(1, 65535)]
    public int PublicPort { get; set; } = 5001;

    /// <summary>Internal gRPC for workers: ResultSinkService and health (HTTP/2 only).</summary>
    [Range(1, 65535)]
    public int ResultSinkPort { get; set; } = 5002;

    /// <summary>
    /// HTTP/1.1 port serving TaskService as JSON (gRPC JSON transcoding, the paths in the protos'
    /// <c>google.api.http</c> options), for people without a gRPC client.
    /// </summary>
    [Range(1, 65535)]
    public int HttpApiPort { get; set; } = 5006;

    /// <summary>HTTP/1.1 port serving Prometheus <c>/metrics</c>.</summary>
    [Range(1, 65535)]
    public int MetricsPort { get; set; } = 5004;
}
