using CeleryKube.Messaging;
using CeleryKube.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RabbitMQ.Client.Exceptions;

namespace CeleryKube.ScaleOut.Tests;

/// <summary><c>RabbitMq__Endpoints</c> is read and checked at start; the publish retry rule.</summary>
public sealed class BrokerEndpointsTests
{
    private static RabbitMqOptions Bind(string? endpoints)
    {
        var settings = new Dictionary<string, string?> { ["RabbitMq:Uri"] = "amqp://app:secret@ignored:5672/prod" };
        if (endpoints is not null) settings["RabbitMq:Endpoints"] = endpoints;
        var services = new ServiceCollection();
        services.AddValidatedOptions<RabbitMqOptions>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), RabbitMqOptions.SectionName);
        return services.BuildServiceProvider().GetRequiredService<IOptions<RabbitMqOptions>>().Value;
    }

    [Fact]
    public void Unset_means_the_uri_host_alone()
    {
        Assert.Empty(Bind(null).EndpointList);
        Assert.Empty(Bind("").EndpointList);
        Assert.Equal("amqp://app:***@ignored:5672/prod", Bind(null).RedactedBroker);
    }

    [Fact]
    public void A_node_list_is_parsed_in_order_with_spaces_and_ipv6_allowed()
    {
        var options = Bind("rabbit-0.rabbit:5672, rabbit-1.rabbit:5673 ,[::1]:5674");
        Assert.Equal([("rabbit-0.rabbit", 5672), ("rabbit-1.rabbit", 5673), ("::1", 5674)], options.EndpointList);
        Assert.Contains("nodes rabbit-0.rabbit:5672,rabbit-1.rabbit:5673,[::1]:5674", options.RedactedBroker);
        Assert.DoesNotContain("secret", options.RedactedBroker);
    }

    [Theory]
    [InlineData("rabbit-0")]
    [InlineData("rabbit-0:5672,rabbit-1")]
    [InlineData("rabbit-0:0")]
    [InlineData("rabbit-0:70000")]
    [InlineData("rabbit-0:amqp")]
    [InlineData(":5672")]
    [InlineData(",")]
    public void A_bad_node_list_stops_the_process_naming_the_variable_and_the_entry(string endpoints)
    {
        var failure = string.Join("; ", Assert.Throws<OptionsValidationException>(() => Bind(endpoints)).Failures);
        Assert.Contains("RabbitMq__Endpoints", failure);
        Assert.Contains("host:port", failure);
    }

    private static AlreadyClosedException ClosedUnderIt() =>
        new(new RabbitMQ.Client.Events.ShutdownEventArgs(RabbitMQ.Client.ShutdownInitiator.Peer, 320, "CONNECTION_FORCED"));

    [Fact]
    public async Task A_publish_closed_under_it_is_tried_again_until_it_goes_through()
    {
        var calls = 0;
        await PublishRetry.RunAsync(_ =>
        {
            if (++calls < 3) throw ClosedUnderIt();
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_connection_that_stays_closed_fails_after_the_last_attempt_and_other_errors_at_once()
    {
        var calls = 0;
        await Assert.ThrowsAsync<AlreadyClosedException>(() => PublishRetry.RunAsync(_ =>
        {
            calls++;
            throw ClosedUnderIt();
        }, CancellationToken.None));
        Assert.Equal(PublishRetry.Attempts, calls);

        calls = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => PublishRetry.RunAsync(_ =>
        {
            calls++;
            throw new InvalidOperationException("not a closed channel");
        }, CancellationToken.None));
        Assert.Equal(1, calls);
    }
}
