using CeleryKube.Worker;
using Microsoft.Extensions.Options;

try
{
    // Settings files live beside the binary, whatever the working directory.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.AddWorker(args);
    var app = builder.Build();
    app.MapWorker();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    // The generic DataAnnotations line repeats what the Section__Key line says better.
    var failures = ex.Failures.Where(f => !f.StartsWith("DataAnnotation validation failed", StringComparison.Ordinal)).DefaultIfEmpty(ex.Message);
    await Console.Error.WriteLineAsync($"worker: invalid configuration:\n  {string.Join("\n  ", failures)}");
    return 2;
}
