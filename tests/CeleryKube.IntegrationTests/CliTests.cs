using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CeleryKube.Testing;

namespace CeleryKube.IntegrationTests;

/// <summary>What a command-line user sees with buf curl (a grpcurl-like client) and reflection.</summary>
public sealed class CliTests(PipelineFixture fx) : IClassFixture<PipelineFixture>
{
    private static Task<string> BufCurl(params string[] args) =>
        RunAsync(RepoPaths.Buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", .. args]);

    /// <summary>Runs a command line tool as a user would; its stdout, or a failed assertion with all it printed.</summary>
    private static async Task<string> RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout} {await stderr}");
        return await stdout;
    }

    [Fact]
    public async Task Reflection_lists_the_task_service_methods()
    {
        var methods = (await BufCurl("--list-methods", fx.Stack.PublicUrl)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var rpc in new[] { "SubmitLcs", "GetTask", "ListTasks", "WatchTasks", "CancelTask", "DeleteTasks", "GetClusterStatus" })
            Assert.Contains($"celerykube.v1.TaskService/{rpc}", methods);
        Assert.Contains("grpc.health.v1.Health/Check", methods);
    }

    [Fact]
    public async Task Reflection_on_each_port_lists_only_what_that_port_serves()
    {
        var publicMethods = await BufCurl("--list-methods", fx.Stack.PublicUrl);
        Assert.DoesNotContain("ResultSinkService", publicMethods);
        var sinkMethods = await BufCurl("--list-methods", fx.Stack.ResultSinkUrl);
        Assert.Contains("celerykube.v1.ResultSinkService/StartTask", sinkMethods);
        Assert.DoesNotContain("celerykube.v1.TaskService/", sinkMethods);
    }

    [Fact]
    public async Task Json_over_http_submits_and_reads_a_task_without_a_grpc_client()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fx.Stack.HttpApiPort}") };
        using var submit = await http.PostAsync("/v1/tasks",
            new StringContent("""{"text_a":"xxhello worldyy","text_b":"say hello world"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        var id = (await submit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("task").GetProperty("id").GetString()!;
        await fx.Stack.WaitForFinalAsync(id);

        var task = (await http.GetFromJsonAsync<JsonElement>($"/v1/tasks/{id}")).GetProperty("task");
        Assert.Equal("TASK_STATE_SUCCEEDED", task.GetProperty("state").GetString());
        Assert.Equal("hello world", task.GetProperty("result").GetProperty("substring").GetString());
        var listed = await http.GetFromJsonAsync<JsonElement>("/v1/tasks?page_size=1000&states=TASK_STATE_SUCCEEDED");
        Assert.Contains(listed.GetProperty("tasks").EnumerateArray(), t => t.GetProperty("id").GetString() == id);
        var cluster = await http.GetFromJsonAsync<JsonElement>("/v1/cluster");
        Assert.True(cluster.GetProperty("brokerAvailable").GetBoolean());
    }

    [Fact]
    public async Task The_readmes_curl_commands_that_write_work_as_written()
    {
        // The README's JSON-over-HTTP lines that send a body, run by curl as a newcomer would paste them.
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "README.md"))
            .Where(l => l.StartsWith("curl ", StringComparison.Ordinal) && l.Contains(" -d ", StringComparison.Ordinal) && l.Contains("127.0.0.1:5006", StringComparison.Ordinal))
            .Select(l => l.Split(" # ")[0].Replace("127.0.0.1:5006", $"127.0.0.1:{fx.Stack.HttpApiPort}", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(3, lines.Count);
        var submitted = JsonDocument.Parse(await Shell(lines.Single(l => l.Contains("/v1/tasks ", StringComparison.Ordinal) || l.EndsWith("/v1/tasks", StringComparison.Ordinal))));
        var id = submitted.RootElement.GetProperty("task").GetProperty("id").GetString()!;
        Assert.Equal(" quick brown ", (await fx.Stack.WaitForFinalAsync(id)).Result.Substring);
        var deleted = JsonDocument.Parse(await Shell(lines.Single(l => l.Contains(":delete", StringComparison.Ordinal))));
        Assert.True(deleted.RootElement.GetProperty("deletedCount").GetInt32() >= 1, deleted.RootElement.ToString());
        // No task failed in this class's stack: the retry answers with nothing retried (a zero count is left out of the JSON).
        var retried = JsonDocument.Parse(await Shell(lines.Single(l => l.Contains(":retry", StringComparison.Ordinal))));
        Assert.Equal(0, retried.RootElement.TryGetProperty("retriedCount", out var count) ? count.GetInt32() : 0);

        static Task<string> Shell(string command) =>
            RunAsync("bash", ["-c", command.Replace("curl ", "curl -sS --fail-with-body ", StringComparison.Ordinal)]);
    }

    [Fact]
    public async Task Json_over_http_answers_bad_input_with_http_status_and_message()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fx.Stack.HttpApiPort}") };
        using var malformed = await http.GetAsync("/v1/tasks/not-a-task-id");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("id", await malformed.Content.ReadAsStringAsync());
        using var unknown = await http.GetAsync($"/v1/tasks/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("does not exist", await unknown.Content.ReadAsStringAsync());
        using var empty = await http.PostAsync("/v1/tasks", new StringContent("""{"text_a":"","text_b":"b"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("text_a", await empty.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Reflection_lists_the_worker_control_methods()
    {
        var port = fx.Stack.Workers[0].Environment["Worker__ControlPort"];
        var methods = await BufCurl("--list-methods", $"http://127.0.0.1:{port}");
        foreach (var rpc in new[] { "Ping", "ActiveQueues", "Active", "Stats", "Report" })
            Assert.Contains($"celerykube.v1.WorkerControlService/{rpc}", methods);
    }

    [Fact]
    public async Task Submit_and_get_round_trip_through_buf_curl()
    {
        var submitted = JsonDocument.Parse(await BufCurl("-d", """{"text_a":"xxhello worldyy","text_b":"say hello world"}""",
            $"{fx.Stack.PublicUrl}/celerykube.v1.TaskService/SubmitLcs"));
        var id = submitted.RootElement.GetProperty("task").GetProperty("id").GetString()!;
        Assert.Equal("TASK_QUEUE_SMALL", submitted.RootElement.GetProperty("task").GetProperty("queue").GetString());
        await fx.Stack.WaitForFinalAsync(id);
        var got = JsonDocument.Parse(await BufCurl("-d", $$"""{"id":"{{id}}"}""", $"{fx.Stack.PublicUrl}/celerykube.v1.TaskService/GetTask"));
        var task = got.RootElement.GetProperty("task");
        Assert.Equal("TASK_STATE_SUCCEEDED", task.GetProperty("state").GetString());
        Assert.Equal("hello world", task.GetProperty("result").GetProperty("substring").GetString());
    }

    [Fact]
    public async Task Unknown_ids_are_not_found_for_cli_users_too()
    {
        var info = new ProcessStartInfo(RepoPaths.Buf) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", $$"""{"id":"{{Guid.NewGuid()}}"}""",
                     $"{fx.Stack.PublicUrl}/celerykube.v1.TaskService/GetTask" }) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("not_found", output);
        Assert.Contains("does not exist", output);
    }
}
