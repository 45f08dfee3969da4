using CeleryKube.Frontend.Services;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using GrpcStatus = Google.Rpc.Status;

namespace CeleryKube.Frontend.Tests;

public sealed class PageProblemTests
{
    [Theory]
    [InlineData(StatusCode.InvalidArgument, 400)]
    [InlineData(StatusCode.NotFound, 404)]
    [InlineData(StatusCode.FailedPrecondition, 409)]
    [InlineData(StatusCode.PermissionDenied, 403)]
    [InlineData(StatusCode.ResourceExhausted, 429)]
    [InlineData(StatusCode.Unavailable, 503)]
    [InlineData(StatusCode.Internal, 500)]
    [InlineData(StatusCode.Unknown, 500)]
    public void Maps_each_grpc_status_code_to_one_http_status_code(StatusCode code, int http) =>
        Assert.Equal(http, PageProblem.HttpStatus(new RpcException(new Grpc.Core.Status(code, "x"))));

    [Fact]
    public void A_body_kestrel_refused_as_too_large_stays_413_and_anything_else_is_500()
    {
        var tooLarge = new Microsoft.AspNetCore.Http.BadHttpRequestException("too large", 413);
        Assert.Equal(413, PageProblem.HttpStatus(tooLarge));
        Assert.Equal(413, PageProblem.HttpStatus(new Microsoft.AspNetCore.Mvc.ModelBinding.ValueProviderException("form", tooLarge)));
        Assert.Equal(500, PageProblem.HttpStatus(new InvalidOperationException("bug")));
    }

    [Fact]
    public void A_refusal_names_the_fields_the_service_named()
    {
        var status = new GrpcStatus
        {
            Code = (int)Code.InvalidArgument,
            Message = "invalid page_token",
            Details =
            {
                Google.Protobuf.WellKnownTypes.Any.Pack(new BadRequest
                {
                    FieldViolations = { new BadRequest.Types.FieldViolation { Field = "page_token", Description = "is not a token returned by ListTasks" } },
                }),
            },
        };
        var problem = PageProblem.From(status.ToRpcException());
        Assert.Equal(400, problem.StatusCode);
        Assert.Equal("page_token: is not a token returned by ListTasks", problem.Message);
    }

    [Fact]
    public void A_refusal_without_fields_shows_the_service_message_and_a_failure_shows_none()
    {
        Assert.Equal("task 42 not found", PageProblem.From(new RpcException(new Grpc.Core.Status(StatusCode.NotFound, "task 42 not found"))).Message);
        var failure = PageProblem.From(new RpcException(new Grpc.Core.Status(StatusCode.Internal, "stack trace with secrets")));
        Assert.Equal(500, failure.StatusCode);
        Assert.DoesNotContain("secrets", failure.Message);
    }
}
