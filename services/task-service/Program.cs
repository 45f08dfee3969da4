using CeleryKube.TaskService;
using CeleryKube.TaskService.Persistence;

var builder = WebApplication.CreateBuilder(args);
builder.AddTaskService();

var app = builder.Build();
app.MapTaskService();
await app.Services.MigrateTaskStoreAsync();
await app.RunAsync();
