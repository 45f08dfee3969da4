using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CeleryKube.ServiceDefaults;

/// <summary>Binds option classes and validates them when the host starts, not on first use.</summary>
public static class ValidatedOptions
{
    /// <summary>
    /// Binds <typeparamref name="T"/> to <paramref name="sectionName"/>, validates its data
    /// annotations at start-up and returns the bound value for use while wiring the host.
    /// A bad value stops the process with a message naming the setting as an environment variable.
    /// </summary>
    public static T AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string sectionName)
        where T : class, new()
    {
        // Data annotations are checked by SectionNameValidator alone, so each failure is reported
        // once, under the environment variable name to fix.
        services.AddOptions<T>()
            .Bind(configuration.GetSection(sectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new SectionNameValidator<T>(sectionName));

        var bound = new T();
        try
        {
            configuration.GetSection(sectionName).Bind(bound);
        }
        catch (InvalidOperationException ex)
        {
            throw new OptionsValidationException(sectionName, typeof(T),
                [$"Configuration section '{sectionName}' has a value of the wrong type ({sectionName}__<Key> environment variables): {ex.InnerException?.Message ?? ex.Message}"]);
        }
        return bound;
    }

    /// <summary>Rewrites DataAnnotations failures so they name the environment variable to fix.</summary>
    private sealed class SectionNameValidator<T>(string sectionName) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var context = new System.ComponentModel.DataAnnotations.ValidationContext(options);
            var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
            if (System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, context, results, validateAllProperties: true))
            {
                return ValidateOptionsResult.Success;
            }
            return ValidateOptionsResult.Fail(results.Select(r =>
                $"{string.Join(", ", r.MemberNames.Select(m => $"{sectionName}__{m}"))}: {r.ErrorMessage}"));
        }
    }
}
