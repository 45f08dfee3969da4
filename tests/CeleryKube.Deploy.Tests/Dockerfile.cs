using System.Text;
using System.Text.Json;

namespace CeleryKube.Deploy.Tests;

/// <summary>One instruction of a Dockerfile, with the build stage it belongs to.</summary>
internal sealed record Instruction(string Keyword, string Arguments, int Stage, int Line)
{
    public override string ToString() => $"line {Line}: {Keyword} {Arguments}";

    /// <summary>Shell-like words: whitespace separated, quotes removed.</summary>
    public List<string> Words => Dockerfile.Split(Arguments);

    /// <summary>COPY/ADD flags (<c>--from=build</c>) and the remaining sources and destination.</summary>
    public (Dictionary<string, string> Flags, List<string> Sources, string Destination) CopyParts
    {
        get
        {
            var flags = new Dictionary<string, string>();
            var rest = new List<string>();
            foreach (var word in Words)
            {
                if (word.StartsWith("--", StringComparison.Ordinal) && rest.Count == 0)
                {
                    var eq = word.IndexOf('=');
                    flags[eq < 0 ? word[2..] : word[2..eq]] = eq < 0 ? "" : word[(eq + 1)..];
                }
                else rest.Add(word);
            }
            return (flags, rest.Take(rest.Count - 1).ToList(), rest[^1]);
        }
    }
}

/// <summary>A parsed Dockerfile: enough of the syntax for the ones in this repository.</summary>
internal sealed class Dockerfile
{
    public Dockerfile(string relativePath)
    {
        RelativePath = relativePath;
        var lines = File.ReadAllLines(Repo.PathOf(relativePath));
        var stage = -1;
        var current = new StringBuilder();
        var startLine = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (current.Length == 0 && (line.Length == 0 || line.StartsWith('#'))) continue;
            if (current.Length > 0 && line.StartsWith('#')) continue;
            if (current.Length == 0) startLine = i + 1;
            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1]).Append(' ');
                continue;
            }
            current.Append(line);
            var text = current.ToString().Trim();
            current.Clear();
            var space = text.IndexOfAny([' ', '\t']);
            var keyword = (space < 0 ? text : text[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : text[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                stage++;
                var words = Split(arguments);
                var asIndex = words.FindIndex(w => w.Equals("AS", StringComparison.OrdinalIgnoreCase));
                StageNames.Add(asIndex >= 0 ? words[asIndex + 1] : stage.ToString());
                BaseImages.Add(words.First(w => !w.StartsWith("--", StringComparison.Ordinal)));
            }
            Instructions.Add(new Instruction(keyword, arguments, stage, startLine));
        }
    }

    public string RelativePath { get; }

    public List<Instruction> Instructions { get; } = [];

    public List<string> StageNames { get; } = [];

    public List<string> BaseImages { get; } = [];

    public int FinalStage => StageNames.Count - 1;

    public IEnumerable<Instruction> InStage(int stage) => Instructions.Where(i => i.Stage == stage);

    /// <summary>The project that <c>RUN dotnet publish</c> publishes (repository-relative).</summary>
    public string PublishedProject => PublishInstruction.Words.Single(w => w.EndsWith(".csproj", StringComparison.Ordinal));

    public Instruction PublishInstruction => Instructions.Single(i => i.Keyword == "RUN" && i.Words.Take(2).SequenceEqual(["dotnet", "publish"]));

    /// <summary>ENV values of the final stage.</summary>
    public Dictionary<string, string> FinalEnv
    {
        get
        {
            var env = new Dictionary<string, string>();
            foreach (var instruction in InStage(FinalStage).Where(i => i.Keyword == "ENV"))
            {
                foreach (var word in instruction.Words)
                {
                    var eq = word.IndexOf('=');
                    if (eq > 0) env[word[..eq]] = word[(eq + 1)..];
                }
            }
            return env;
        }
    }

    public List<string> Entrypoint
    {
        get
        {
            var instruction = InStage(FinalStage).Last(i => i.Keyword == "ENTRYPOINT");
            return JsonSerializer.Deserialize<List<string>>(instruction.Arguments)
                ?? throw new InvalidOperationException("ENTRYPOINT must be the JSON (exec) form");
        }
    }

    /// <summary>Splits on whitespace outside quotes and removes the quotes.</summary>
    public static List<string> Split(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        foreach (var c in text)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }
}

/// <summary>The root .dockerignore, as the Docker build context sees it.</summary>
internal static class DockerIgnore
{
    private static readonly List<System.Text.RegularExpressions.Regex> Patterns = File.Exists(Repo.PathOf(".dockerignore"))
        ? File.ReadAllLines(Repo.PathOf(".dockerignore"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('!'))
            .Select(ToRegex)
            .ToList()
        : [];

    /// <summary>True when a repository-relative path (forward slashes) is left out of the context.</summary>
    public static bool Excludes(string relativePath) => Patterns.Any(p => p.IsMatch(relativePath));

    private static System.Text.RegularExpressions.Regex ToRegex(string pattern)
    {
        pattern = pattern.TrimStart('/');
        pattern = pattern.TrimEnd('/');
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (pattern[i] == '*') regex.Append("[^/]*");
            else if (pattern[i] == '?') regex.Append("[^/]");
            else regex.Append(System.Text.RegularExpressions.Regex.Escape(pattern[i].ToString()));
        }
        // A matched directory excludes everything below it; a file pattern matches the file.
        regex.Append("(/.*)?$");
        return new System.Text.RegularExpressions.Regex(regex.ToString());
    }
}
