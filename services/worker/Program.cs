using CeleryKube.ServiceDefaults;
using CeleryKube.Worker;

return await ConfigurationGuard.RunAsync("worker", async () =>
{
    // Settings files live beside the binary, whatever the working directory.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.AddWorker(args);
    var app = builder.Build();
    app.MapWorker();
    await app.RunAsync();
    return Environment.ExitCode; // 3 when the broker closed the consumer channel (see JobConsumer)
});
