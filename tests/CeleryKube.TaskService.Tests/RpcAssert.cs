using Google.Rpc;
using Grpc.Core;

namespace CeleryKube.TaskService.Tests;

/// <summary>What a refused call must carry: the right status, a readable message and, for bad fields, the field's name.</summary>
public static class RpcAssert
{
    public static async Task<RpcException> Refused(Func<Task> call, StatusCode code)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
        return error;
    }

    public static void AssertFieldViolation(RpcException error, string field)
    {
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(badRequest.FieldViolations, v => v.Field == field);
    }
}
