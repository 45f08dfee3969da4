using System.ComponentModel.DataAnnotations;

namespace CeleryKube.Worker.Options;

/// <summary>Where and how a worker reports to task-service's ResultSinkService (<c>ResultSink__*</c>).</summary>
public sealed class ResultSinkOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ResultSink";

    /// <summary>The token used in Development when none is configured (task-service uses the same).</summary>
    public const string DevelopmentToken = "dev-token";

    /// <summary>Address of task-service's ResultSink port.</summary>
    [Required]
    [RegularExpression("^https?://.+", ErrorMessage = "must be an http:// or https:// address, e.g. http://127.0.0.1:5002")]
    public string Url { get; set; } = "http://127.0.0.1:5002";

    /// <summary>The bearer token task-service expects. Required outside Development.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// The token to present: the configured one, the development token in Development, otherwise a
    /// start-up error (a worker that cannot report must not take jobs off the queue).
    /// </summary>
    public string ResolveToken(bool isDevelopment)
    {
        if (!string.IsNullOrWhiteSpace(Token)) return Token;
        if (isDevelopment) return DevelopmentToken;
        throw new Microsoft.Extensions.Options.OptionsValidationException(SectionName, typeof(ResultSinkOptions),
            ["ResultSink__Token is required outside Development: set it to the secret task-service expects"]);
    }
}
