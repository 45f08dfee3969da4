using System.Collections.Concurrent;
using System.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Reflection;
using Grpc.Reflection.V1;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace CeleryKube.ServiceDefaults;

/// <summary>
/// gRPC server reflection that lists only the services a port serves: the stock reflection
/// service lists every service of the process, so the public port would advertise the internal
/// ResultSink methods that <see cref="LocalPortRestriction"/> refuses there.
/// </summary>
public sealed class PortScopedReflection(EndpointDataSource endpoints)
{
    private readonly ConcurrentDictionary<int, (ReflectionV1ServiceImpl V1, ReflectionServiceImpl V1Alpha)> byPort = new();

    /// <summary>The reflection services answering on <paramref name="port"/>.</summary>
    public (ReflectionV1ServiceImpl V1, ReflectionServiceImpl V1Alpha) ForPort(int port) => byPort.GetOrAdd(port, p =>
    {
        var descriptors = endpoints.Endpoints
            .Where(e => LocalPortRestriction.IsServedOn(e.Metadata, p))
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.ServiceType)
            .OfType<Type>().Distinct()
            .Select(DescriptorOf).OfType<ServiceDescriptor>()
            .DistinctBy(d => d.FullName).ToList();
        return (new ReflectionV1ServiceImpl(descriptors), new ReflectionServiceImpl(descriptors));
    });

    // Generated code nests FooBase in a static class Foo whose Descriptor describes the service.
    private static ServiceDescriptor? DescriptorOf(Type implementation)
    {
        var type = implementation;
        while (type.BaseType is { } parent && parent != typeof(object)) type = parent;
        return type.DeclaringType?.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as ServiceDescriptor;
    }

    private static int LocalPort(ServerCallContext context) => context.GetHttpContext().Connection.LocalPort;

    /// <summary><c>grpc.reflection.v1.ServerReflection</c>, scoped to the caller's port.</summary>
    public sealed class V1(PortScopedReflection reflection) : Grpc.Reflection.V1.ServerReflection.ServerReflectionBase
    {
        /// <inheritdoc />
        public override Task ServerReflectionInfo(IAsyncStreamReader<Grpc.Reflection.V1.ServerReflectionRequest> requestStream,
            IServerStreamWriter<Grpc.Reflection.V1.ServerReflectionResponse> responseStream, ServerCallContext context) =>
            reflection.ForPort(LocalPort(context)).V1.ServerReflectionInfo(requestStream, responseStream, context);
    }

    /// <summary><c>grpc.reflection.v1alpha.ServerReflection</c>, scoped to the caller's port.</summary>
    public sealed class V1Alpha(PortScopedReflection reflection) : Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionBase
    {
        /// <inheritdoc />
        public override Task ServerReflectionInfo(IAsyncStreamReader<Grpc.Reflection.V1Alpha.ServerReflectionRequest> requestStream,
            IServerStreamWriter<Grpc.Reflection.V1Alpha.ServerReflectionResponse> responseStream, ServerCallContext context) =>
            reflection.ForPort(LocalPort(context)).V1Alpha.ServerReflectionInfo(requestStream, responseStream, context);
    }
}
