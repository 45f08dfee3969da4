using CeleryKube.Protos;
using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.TaskService.Api;
using CeleryKube.TaskService.Domain;
using CeleryKube.TaskService.Options;
using Grpc.Core;

namespace CeleryKube.TaskService.Tests;

public sealed class RoutingAndCountingTests
{
    [Theory]
    [InlineData("abc", 3)]
    [InlineData("", 0)]
    [InlineData("a\U0001F600b", 3)] // a surrogate pair is one code point
    [InlineData("e\u0301", 2)] // a combining mark is its own code point
    public void Code_points_are_counted_not_UTF16_units(string text, int expected) =>
        Assert.Equal(expected, CodePoints.Count(text));

    [Fact]
    public void A_lone_surrogate_counts_as_one_code_point() =>
        // Built at run time: attribute strings cannot carry a lone surrogate.
        Assert.Equal(3, CodePoints.Count(new string([(char)0xD800, 'x', (char)0xDC00])));

    [Theory]
    [InlineData(1000, 1, TaskQueue.Small)]
    [InlineData(1001, 1, TaskQueue.Large)]
    [InlineData(1, 1001, TaskQueue.Large)]
    [InlineData(0, 0, TaskQueue.Small)]
    public void The_longer_text_decides_the_queue(int a, int b, TaskQueue expected)
    {
        var router = new TaskRouter(Microsoft.Extensions.Options.Options.Create(new RoutingOptions()));
        Assert.Equal(expected, router.Route(a, b));
    }

    [Fact]
    public void Page_tokens_round_trip_in_their_own_order_and_garbage_is_invalid_argument()
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal((1234L, id), PageToken.Decode(PageToken.Encode(1234, id, oldestFirst: false), oldestFirst: false));
        Assert.Equal((1234L, id), PageToken.Decode(PageToken.Encode(1234, id, oldestFirst: true), oldestFirst: true));
        var error = Assert.Throws<RpcException>(() => PageToken.Decode("not a token", oldestFirst: false));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var otherOrder = Assert.Throws<RpcException>(() => PageToken.Decode(PageToken.Encode(1234, id, oldestFirst: true), oldestFirst: false));
        Assert.Equal(StatusCode.InvalidArgument, otherOrder.StatusCode);
        Assert.Contains("oldest first", otherOrder.Status.Detail);
    }

    [Theory]
    [InlineData("Mysql")]
    [InlineData("postgres")]
    [InlineData("1")]
    [InlineData("")]
    public void An_unknown_store_provider_is_refused_naming_the_setting(string provider)
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new TaskStoreOptions { Provider = provider }.Kind);
        Assert.Contains("TaskStore__Provider", error.Message);
        Assert.Contains("Postgres", error.Message);
    }

    [Theory]
    [InlineData("Sqlite", StoreProvider.Sqlite)]
    [InlineData("Postgres", StoreProvider.Postgres)]
    public void The_known_store_providers_are_taken(string provider, StoreProvider expected) =>
        Assert.Equal(expected, new TaskStoreOptions { Provider = provider }.Kind);

    [Fact]
    public void A_sqlite_connection_string_with_the_postgres_provider_is_refused_naming_both_settings()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            Persistence.StoreDialect.For(new TaskStoreOptions { Provider = "Postgres" }, new ConnectionStringsOptions()));
        Assert.Contains("ConnectionStrings__Tasks", error.Message);
        Assert.Contains("TaskStore__Provider=Postgres", error.Message);
    }
}
