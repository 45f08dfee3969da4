using System.Text.RegularExpressions;

namespace CeleryKube.Deploy.Tests;

/// <summary>
/// docs/configuration.md against the options classes each image binds: a setting the code reads
/// but the page leaves out is one nobody can find, and a documented name the code ignores is a
/// trap.
/// </summary>
public sealed partial class ConfigurationDocTests
{
    private static readonly string Doc = File.ReadAllText(Repo.PathOf("docs/configuration.md"));

    /// <summary>
    /// The names in the first column of the settings table; "<c>`A__B` / `__C`</c>" documents
    /// <c>A__B</c> and <c>A__C</c> in one row.
    /// </summary>
    private static HashSet<string> DocumentedSettings()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Doc.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var firstCell = line.Split('|')[1];
            string? section = null;
            foreach (var match in SettingName().Matches(firstCell).Cast<Match>())
            {
                if (match.Groups["section"].Success) section = match.Groups["section"].Value;
                if (section is not null) names.Add($"{section}__{match.Groups["key"].Value}");
            }
        }
        return names;
    }

    private static Dictionary<string, string> SettingsOfEveryImage()
    {
        var problems = new List<string>();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var artifact in Skaffold.Artifacts)
        {
            if (ServiceContract.TryFor(artifact, problems) is not { } contract) continue;
            foreach (var name in contract.Settings.Keys) settings.TryAdd(name, artifact.Image);
        }
        Assert.Empty(problems);
        return settings;
    }

    [Fact]
    public void Every_setting_a_service_binds_is_documented()
    {
        var documented = DocumentedSettings();
        var missing = SettingsOfEveryImage().Where(s => !documented.Contains(s.Key)).Select(s => $"{s.Key} ({s.Value})").Order().ToList();
        Assert.True(missing.Count == 0, "docs/configuration.md does not document: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_documented_setting_is_bound_by_some_service()
    {
        var bound = SettingsOfEveryImage();
        var unknown = DocumentedSettings().Where(name => !bound.ContainsKey(name)).Order().ToList();
        Assert.True(unknown.Count == 0, "docs/configuration.md documents settings no service binds: " + string.Join(", ", unknown));
    }

    [GeneratedRegex(@"`(?:(?<section>[A-Za-z]+))?__(?<key>[A-Za-z]+)`")]
    private static partial Regex SettingName();
}
