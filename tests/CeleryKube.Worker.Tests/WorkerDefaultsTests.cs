using CeleryKube.Messaging;
using CeleryKube.Protos.V1;
using CeleryKube.ServiceDefaults;
using CeleryKube.Worker.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CeleryKube.Worker.Tests;

/// <summary>Per-queue defaults, the worker id and the advertised control address.</summary>
public sealed class WorkerDefaultsTests
{
    private static WorkerOptions Resolve(WorkerOptions options, string listen = "127.0.0.1", int cores = 8)
    {
        new WorkerDefaults(Microsoft.Extensions.Options.Options.Create(new ListenOptions { Address = listen }), new WorkerHost("host-a", 4242, cores))
            .PostConfigure(null, options);
        return options;
    }

    [Fact]
    public void Small_queue_defaults_to_eight_slots_per_core_and_one_minute()
    {
        var settings = Resolve(new WorkerOptions());
        Assert.Equal(TaskQueue.Small, settings.TaskQueue);
        Assert.Equal("lcs.small", settings.QueueName);
        Assert.Equal(64, settings.Concurrency);
        Assert.Equal(64, settings.Prefetch);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.TimeLimit);
        Assert.Equal(TimeSpan.FromSeconds(25), settings.ShutdownGrace);
    }

    [Fact]
    public void Large_queue_defaults_to_two_slots_and_twenty_minutes_below_the_consumer_timeout()
    {
        var settings = Resolve(new WorkerOptions { Queue = "large" });
        Assert.Equal("lcs.large", settings.QueueName);
        Assert.Equal(2, settings.Concurrency);
        Assert.Equal(TimeSpan.FromMinutes(20), settings.TimeLimit);
        Assert.True(settings.TimeLimit <= WorkerOptions.MaxTimeLimit);
        Assert.True(WorkerOptions.MaxTimeLimit < QueueTopology.ConsumerTimeout);
    }

    [Fact]
    public void Explicit_values_win_over_queue_defaults()
    {
        var settings = Resolve(new WorkerOptions { Queue = "large", Concurrency = 5, TimeLimit = TimeSpan.FromMinutes(3) });
        Assert.Equal(5, settings.Concurrency);
        Assert.Equal(TimeSpan.FromMinutes(3), settings.TimeLimit);
    }

    [Fact]
    public void Worker_id_defaults_to_hostname_and_pid() => Assert.Equal("host-a-4242", Resolve(new WorkerOptions()).Id);

    [Fact]
    public void Configured_worker_id_is_used() => Assert.Equal("w1", Resolve(new WorkerOptions { Id = " w1 " }).Id);

    [Fact]
    public void Advertised_address_uses_the_listen_address_and_control_port() =>
        Assert.Equal("http://127.0.0.1:5003", Resolve(new WorkerOptions()).AdvertisedAddress);

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public void Advertised_address_uses_the_hostname_when_listening_everywhere(string listen) =>
        Assert.Equal("http://host-a:7003", Resolve(new WorkerOptions { ControlPort = 7003 }, listen).AdvertisedAddress);

    [Fact]
    public void Advertised_address_brackets_ipv6() =>
        Assert.Equal("http://[::1]:5003", Resolve(new WorkerOptions(), "::1").AdvertisedAddress);

    [Fact]
    public void Configured_advertised_address_wins() =>
        Assert.Equal("http://10.1.2.3:5003", Resolve(new WorkerOptions { AdvertisedAddress = "http://10.1.2.3:5003" }, "0.0.0.0").AdvertisedAddress);

    [Fact]
    public void The_defaults_are_what_the_host_reads_after_binding()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection([new("Worker:Queue", "large")]).Build();
        var services = new ServiceCollection();
        services.AddWorkerOptions(config, new WorkerHost("host-b", 7, 4));
        var options = services.BuildServiceProvider().GetRequiredService<WorkerOptions>();
        Assert.Equal((2, WorkerDefaults.LargeTimeLimit, "host-b-7", 2), (options.Concurrency, options.TimeLimit, options.Id, options.CoresPerJob));
    }

    [Fact]
    public void Queue_switch_on_the_command_line_maps_to_worker_queue()
    {
        var config = new ConfigurationBuilder().AddCommandLine(["--queue", "large"], WorkerSetup.SwitchMappings).Build();
        Assert.Equal("large", config["Worker:Queue"]);
    }

    [Theory]
    [InlineData("large", 1, 2, 2)]
    [InlineData("large", 2, 2, 1)]
    [InlineData("large", 1, 8, 2)]
    [InlineData("small", 1, 8, 1)]
    public void A_large_worker_with_a_spare_core_per_slot_gives_each_job_two_cores(string queue, int concurrency, int cores, int expected)
    {
        var settings = Resolve(new WorkerOptions { Queue = queue, Concurrency = concurrency }, cores: cores);
        Assert.Equal(expected, settings.CoresPerJob);
    }

    [Theory]
    [InlineData("small")]
    [InlineData("large")]
    public void Claiming_running_and_reporting_fit_inside_the_broker_consumer_timeout(string queue)
    {
        var settings = Resolve(new WorkerOptions { Queue = queue });
        var budgets = Sink.SinkRetryBudgets.For(settings.TimeLimit);
        Assert.True(budgets.Start + settings.TimeLimit + budgets.Complete + Sink.SinkRetryBudgets.SettleMargin <= QueueTopology.ConsumerTimeout);
        // A task-service restart or a short outage must never cost a job: minutes, not seconds.
        Assert.True(budgets.Start >= Sink.SinkRetryBudgets.MinimumBudget && budgets.Complete >= Sink.SinkRetryBudgets.MinimumBudget, $"{budgets}");
    }

    [Fact]
    public void The_longest_allowed_time_limit_still_leaves_minutes_to_report()
    {
        var budgets = Sink.SinkRetryBudgets.For(WorkerOptions.MaxTimeLimit);
        Assert.Equal(TimeSpan.FromMinutes(25), WorkerOptions.MaxTimeLimit);
        Assert.True(budgets.Start >= TimeSpan.FromMinutes(2) && budgets.Complete >= TimeSpan.FromMinutes(2), $"{budgets}");
    }
}
