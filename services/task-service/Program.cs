using CeleryKube.ServiceDefaults;
using CeleryKube.TaskService;
using CeleryKube.TaskService.Persistence;

return await ConfigurationGuard.RunAsync("task-service", async () =>
{
    // Settings files live beside the binary, whatever the working directory (which holds the data).
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.AddTaskService();
    var app = builder.Build();
    app.MapTaskService();
    await app.Services.MigrateTaskStoreAsync();
    await app.RunAsync();
    return 0;
});
