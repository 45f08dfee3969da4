using System.Text;

namespace CeleryKube.TaskService.Api;

/// <summary>
/// Opaque keyset page tokens: the (created, id) of the last task on the page and the order the
/// page was listed in, so a token never continues a list sorted the other way.
/// </summary>
public static class PageToken
{
    private const string OldestFirstMark = "asc";

    /// <summary>Encodes the position after which the next page starts.</summary>
    public static string Encode(long createdAtMs, string id, bool oldestFirst) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(oldestFirst ? $"{OldestFirstMark}:{createdAtMs}:{id}" : $"{createdAtMs}:{id}"));

    /// <summary>Decodes a token for a list in the given order, or fails with INVALID_ARGUMENT on page_token.</summary>
    public static (long CreatedAtMs, string Id) Decode(string token, bool oldestFirst)
    {
        string[] parts;
        try
        {
            parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split(':');
        }
        catch (FormatException)
        {
            parts = [];
        }
        var tokenOldestFirst = parts.Length == 3 && parts[0] == OldestFirstMark;
        if (tokenOldestFirst) parts = parts[1..];
        long createdAtMs = 0;
        if (parts.Length != 2 || !long.TryParse(parts[0], out createdAtMs) || !Guid.TryParse(parts[1], out _))
            RpcErrors.InvalidArgument("page_token", "is not a token returned by ListTasks");
        if (tokenOldestFirst != oldestFirst)
            RpcErrors.InvalidArgument("page_token", $"continues a list sorted {(tokenOldestFirst ? "oldest" : "newest")} first; ask in that order or start from the first page");
        return (createdAtMs, parts[1]);
    }
}
