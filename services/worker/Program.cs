using CeleryKube.Worker;
using Microsoft.Extensions.Options;

// Settings files live beside the binary, whatever the working directory.
try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.AddWorker(args);
    var app = builder.Build();
    app.MapWorker();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync($"worker: invalid configuration: {string.Join("; ", ex.Failures)}");
    return 2;
}
