using CeleryKube.ServiceDefaults;
using CeleryKube.Worker.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CeleryKube.Worker.Tests;

/// <summary>Bad <c>Worker__*</c> and <c>ResultSink__*</c> values stop the worker with a message naming the variable.</summary>
public sealed class OptionsValidationTests
{
    private static WorkerOptions Bind(params (string Key, string Value)[] settings)
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>($"Worker:{s.Key}", s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddWorkerOptions(config, new WorkerHost("host", 1, 2));
        return services.BuildServiceProvider().GetRequiredService<WorkerOptions>();
    }

    private static string Failure(params (string Key, string Value)[] settings) =>
        string.Join("; ", Assert.Throws<OptionsValidationException>(() => Bind(settings)).Failures);

    [Fact]
    public void No_settings_at_all_are_valid() => Assert.Equal("small", Bind().Queue);

    [Theory]
    [InlineData("small")]
    [InlineData("LARGE")]
    public void Known_queue_names_are_accepted_in_any_case(string queue) => Assert.Equal(queue, Bind(("Queue", queue)).Queue);

    [Fact]
    public void Unknown_queue_names_the_variable_and_the_choices()
    {
        var message = Failure(("Queue", "medium"));
        Assert.Contains("Worker__Queue", message);
        Assert.Contains("'small' or 'large'", message);
        Assert.Contains("medium", message);
    }

    [Fact]
    public void Negative_concurrency_is_refused_with_a_clear_message()
    {
        var message = Failure(("Concurrency", "-1"));
        Assert.Contains("Worker__Concurrency", message);
        Assert.Contains("between 1 and 1024", message);
    }

    [Fact]
    public void Time_limit_over_the_broker_consumer_timeout_is_refused_and_both_numbers_are_named()
    {
        var message = Failure(("TimeLimit", "00:40:00"));
        Assert.Contains("Worker__TimeLimit", message);
        Assert.Contains("00:30:00", message);
        Assert.Contains("consumer timeout", message);
    }

    [Fact]
    public void Time_limit_just_below_the_consumer_timeout_without_room_to_report_is_refused() =>
        Assert.Contains("Worker__TimeLimit", Failure(("TimeLimit", "00:29:00")));

    [Fact]
    public void The_longest_allowed_time_limit_is_accepted() =>
        Assert.Equal(WorkerOptions.MaxTimeLimit, Bind(("TimeLimit", WorkerOptions.MaxTimeLimit.ToString("c"))).TimeLimit);

    [Fact]
    public void Negative_time_limit_is_refused() => Assert.Contains("Worker__TimeLimit", Failure(("TimeLimit", "-00:00:01")));

    [Fact]
    public void Zero_means_the_per_queue_default() =>
        Assert.Equal((16, WorkerDefaults.SmallTimeLimit), Bind(("Concurrency", "0"), ("TimeLimit", "00:00:00")) is var o ? (o.Concurrency, o.TimeLimit) : default);

    [Fact]
    public void Wrongly_typed_time_limit_names_the_section() =>
        Assert.Contains("Worker__", Assert.Throws<OptionsValidationException>(() => Bind(("TimeLimit", "soon"))).Message);

    [Fact]
    public void Same_control_and_metrics_port_is_refused() =>
        Assert.Contains("Worker__ControlPort", Failure(("ControlPort", "6000"), ("MetricsPort", "6000")));

    [Fact]
    public void Port_out_of_range_is_refused() => Assert.Contains("Worker__MetricsPort", Failure(("MetricsPort", "70000")));

    [Fact]
    public void Advertised_address_must_be_http() =>
        Assert.Contains("Worker__AdvertisedAddress", Failure(("AdvertisedAddress", "10.0.0.5:5003")));

    [Fact]
    public void Result_sink_token_is_required_outside_development()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new ResultSinkOptions().ResolveToken(isDevelopment: false));
        Assert.Contains("ResultSink__Token", error.Message);
    }

    [Fact]
    public void Development_uses_the_same_default_token_as_task_service() =>
        Assert.Equal("dev-token", new ResultSinkOptions().ResolveToken(isDevelopment: true).Value);

    [Fact]
    public void A_configured_token_wins_everywhere() =>
        Assert.Equal("s3cret", new ResultSinkOptions { Token = "s3cret" }.ResolveToken(isDevelopment: true).Value);
}
