using CeleryKube.ServiceDefaults;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client.Configuration;
using Microsoft.AspNetCore.Http.Features;
using TaskServiceClient = CeleryKube.Protos.V1.TaskService.TaskServiceClient;

namespace CeleryKube.Frontend.Services;

/// <summary>Wires the TaskService gRPC client: retries on <c>Unavailable</c>, a deadline on every unary call.</summary>
public static class TaskServiceClientSetup
{
    /// <summary>Largest gRPC message either way: two texts at the service's default limit, UTF-8, with room to spare.</summary>
    public const int MaxMessageBytes = 128 * 1024 * 1024;

    /// <summary>Registers <see cref="TaskServiceClient"/> for <see cref="FrontendOptions.TaskServiceUrl"/>.</summary>
    public static IServiceCollection AddTaskServiceClient(this IServiceCollection services, FrontendOptions options)
    {
        services.AddSingleton<DefaultDeadlineInterceptor>();
        services.AddGrpcClient<TaskServiceClient>(o => o.Address = new Uri(options.TaskServiceUrl))
            .ConfigureChannel(channel =>
            {
                channel.ServiceConfig = new ServiceConfig { MethodConfigs = { RetryOnUnavailable() } };
                channel.MaxReconnectBackoff = GrpcRetry.MaxReconnectBackoff;
                // A full task view carries both texts, which can be tens of megabytes.
                channel.MaxReceiveMessageSize = MaxMessageBytes;
                channel.MaxSendMessageSize = MaxMessageBytes;
            })
            .AddInterceptor<DefaultDeadlineInterceptor>()
            .AddInterceptor<WebSignIn.AccessTokenInterceptor>();
        return services;
    }

    /// <summary>Raises the form and body limits so a large text (typed or uploaded) reaches the service.</summary>
    public static void AllowLargeUploads(this WebApplicationBuilder builder, FrontendOptions options)
    {
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxUploadBytes);
        builder.Services.Configure<FormOptions>(o =>
        {
            o.ValueLengthLimit = (int)Math.Min(int.MaxValue, options.MaxUploadBytes);
            o.MultipartBodyLengthLimit = options.MaxUploadBytes;
        });
    }

    /// <summary>
    /// A restarting task-service is briefly <c>Unavailable</c>; a few quick retries hide that.
    /// SubmitLcs is safe to retry because the home page sends an idempotency key.
    /// </summary>
    private static MethodConfig RetryOnUnavailable() => GrpcRetry.OnUnavailable(maxAttempts: 3, maxBackoff: TimeSpan.FromSeconds(1));
}

/// <summary>
/// Gives every unary call that has no deadline of its own a short one, so a hung task-service
/// turns into <c>DeadlineExceeded</c> (and the "service down" banner) instead of a hung page.
/// The WatchTasks stream is long-lived by design and ends when the browser disconnects.
/// </summary>
public sealed class DefaultDeadlineInterceptor : Interceptor
{
    /// <summary>Deadline for calls that do not set one.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Options.Deadline is null)
        {
            context = new ClientInterceptorContext<TRequest, TResponse>(
                context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow + DefaultTimeout));
        }
        return continuation(request, context);
    }
}
