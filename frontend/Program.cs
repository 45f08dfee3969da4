using CeleryKube.Frontend;
using CeleryKube.Frontend.Services;
using CeleryKube.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
var listen = builder.AddServiceDefaults("frontend");
var options = builder.Services.AddValidatedOptions<FrontendOptions>(builder.Configuration, FrontendOptions.SectionName);
builder.ListenHttp1(listen, options.Port);
builder.AllowLargeUploads();
builder.Services.AddTaskServiceClient(options);
builder.Services.AddRazorPages();

var app = builder.Build();
app.UseExceptionHandler("/Error");
app.UseStaticFiles();
app.UseRouting();
app.MapRazorPages();
app.MapTaskEvents();
app.MapHealthChecks("/healthz");
app.MapDefaultEndpoints();
app.Run();
