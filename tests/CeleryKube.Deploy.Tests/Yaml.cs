using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace CeleryKube.Deploy.Tests;

/// <summary>
/// YAML as plain trees (maps, lists, scalar strings) with path accessors: the tests read
/// Kubernetes objects the way kubectl prints them, without a typed model to keep in sync.
/// </summary>
internal static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Every non-empty document of a (multi-document) YAML text.</summary>
    public static List<Dictionary<object, object?>> Documents(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object?>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (Deserializer.Deserialize<object?>(parser) is Dictionary<object, object?> map) documents.Add(map);
        }
        return documents;
    }

    public static object? At(object? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not Dictionary<object, object?> map || !map.TryGetValue(key, out node)) return null;
        }
        return node;
    }

    public static string? Str(object? node, params string[] path) => At(node, path)?.ToString();

    public static Dictionary<object, object?>? Map(object? node, params string[] path) => At(node, path) as Dictionary<object, object?>;

    public static IEnumerable<object?> Seq(object? node, params string[] path) => At(node, path) as List<object?> ?? [];

    public static IEnumerable<Dictionary<object, object?>> Maps(object? node, params string[] path) => Seq(node, path).OfType<Dictionary<object, object?>>();
}
