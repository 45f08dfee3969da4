namespace CeleryKube.TaskService.Options;

/// <summary>The workers' shared secret (<c>ResultSink__Token</c>).</summary>
public sealed class ResultSinkOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ResultSink";

    /// <summary>The token used in Development when none is configured (the worker uses the same).</summary>
    public const string DevelopmentToken = "dev-token";

    /// <summary>The bearer token workers must present. Required outside Development.</summary>
    public string? Token { get; set; }
}
