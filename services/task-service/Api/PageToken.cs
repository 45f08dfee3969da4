using System.Text;

namespace CeleryKube.TaskService.Api;

/// <summary>Opaque keyset page tokens: the (created, id) of the last task on the page.</summary>
public static class PageToken
{
    /// <summary>Encodes the position after which the next page starts.</summary>
    public static string Encode(long createdAtMs, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{createdAtMs}:{id}"));

    /// <summary>Decodes a token, or fails with INVALID_ARGUMENT on page_token.</summary>
    public static (long CreatedAtMs, string Id) Decode(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':');
            if (colon > 0 && long.TryParse(text[..colon], out var createdAtMs) && Guid.TryParse(text[(colon + 1)..], out _))
                return (createdAtMs, text[(colon + 1)..]);
        }
        catch (FormatException)
        {
        }
        RpcErrors.InvalidArgument("page_token", "is not a token returned by ListTasks");
        return default;
    }
}
