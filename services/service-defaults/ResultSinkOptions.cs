using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CeleryKube.ServiceDefaults;

/// <summary>
/// The internal ResultSink between workers and task-service (<c>ResultSink__*</c>): task-service
/// checks the token, workers present it at <see cref="Url"/>.
/// </summary>
public sealed class ResultSinkOptions
{
    public const string SectionName = "ResultSink";

    /// <summary>The token both sides use in Development when none is configured.</summary>
    public const string DevelopmentToken = "dev-token";

    /// <summary>Address of task-service's ResultSink port, where workers report.</summary>
    [Required]
    [RegularExpression("^https?://.+", ErrorMessage = "must be an http:// or https:// address, e.g. http://127.0.0.1:5002")]
    public string Url { get; set; } = "http://127.0.0.1:5002";

    /// <summary>The shared secret workers present as a bearer token. Required outside Development.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// The token in effect: the configured one, the development token in Development, otherwise a
    /// start-up error (a worker that cannot report must not take jobs, and task-service must not
    /// accept reports from anyone).
    /// </summary>
    public ResultSinkToken ResolveToken(bool isDevelopment)
    {
        if (!string.IsNullOrWhiteSpace(Token)) return new ResultSinkToken(Token, IsDevelopmentDefault: false);
        if (isDevelopment) return new ResultSinkToken(DevelopmentToken, IsDevelopmentDefault: true);
        throw new OptionsValidationException(SectionName, typeof(ResultSinkOptions),
            ["ResultSink__Token is required outside Development: give task-service and every worker the same secret"]);
    }
}

/// <summary>The ResultSink token in effect, resolved once at start-up.</summary>
/// <param name="Value">The token; never logged.</param>
/// <param name="IsDevelopmentDefault">True when it is <see cref="ResultSinkOptions.DevelopmentToken"/>, not a configured secret.</param>
public sealed record ResultSinkToken(string Value, bool IsDevelopmentDefault)
{
    /// <summary>The token as a bearer <c>authorization</c> header value.</summary>
    public string BearerHeader => $"Bearer {Value}";

    /// <inheritdoc />
    public override string ToString() => IsDevelopmentDefault ? "(Development default)" : "(set, redacted)";
}

/// <summary>Registers the ResultSink settings and the token in effect, the same way in task-service and workers.</summary>
public static class ResultSinkSetup
{
    /// <summary>Binds and validates <c>ResultSink__*</c> and registers the resolved <see cref="ResultSinkToken"/>.</summary>
    public static ResultSinkOptions AddResultSink(this WebApplicationBuilder builder)
    {
        var sink = builder.Services.AddValidatedOptions<ResultSinkOptions>(builder.Configuration, ResultSinkOptions.SectionName);
        builder.Services.AddSingleton(sink.ResolveToken(builder.Environment.IsDevelopment()));
        return sink;
    }
}
