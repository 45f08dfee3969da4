using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CeleryKube.Frontend.Services;

/// <summary>
/// Refuses a form post before its body is read when it is too large or carries no valid
/// antiforgery token, so nobody can make the frontend buffer a 100 MB body for nothing.
/// The upload form sends its token as the first multipart field; this guard reads only that
/// field, checks it, and hands the untouched body on. Refusals get the error page (413 or 400).
/// </summary>
public sealed class PostGuard(RequestDelegate next, IAntiforgery antiforgery, IOptions<AntiforgeryOptions> antiforgeryOptions, IOptions<FrontendOptions> options)
{
    /// <summary>Largest body of a post without files (cancel, delete): a few ids.</summary>
    public const long MaxPlainFormBytes = 1024 * 1024;

    /// <summary>How much of a multipart body is read to find the token that must come first.</summary>
    private const int TokenPrefixBytes = 8 * 1024;

    /// <summary>Applies the guard to every POST.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        // Error pages are rendered by re-running the request; it was judged the first time.
        if (!HttpMethods.IsPost(context.Request.Method) ||
            context.Features.Get<IStatusCodeReExecuteFeature>() is not null || context.Features.Get<IExceptionHandlerFeature>() is not null)
        {
            await next(context);
            return;
        }
        var multipart = context.Request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;
        var limit = multipart ? options.Value.MaxUploadBytes : MaxPlainFormBytes;
        try
        {
            if (await RefusalAsync(context, multipart, limit) is { } problem)
            {
                Refuse(context, problem);
                return;
            }
            await next(context);
        }
        catch (Exception ex) when (ex.GetBaseException() is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                                   && !context.Response.HasStarted)
        {
            // A body sent without a length grew over the limit while it was read.
            Refuse(context, TooLarge(limit));
        }
        catch (InvalidDataException ex) when (!context.Response.HasStarted)
        {
            Refuse(context, new PageProblem(StatusCodes.Status400BadRequest, "The form could not be read", ex.Message));
        }
    }

    /// <summary>Why the post is refused before its body is read; null when it may go on.</summary>
    private async Task<PageProblem?> RefusalAsync(HttpContext context, bool multipart, long limit)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return TooLarge(limit);
        }
        // Bodies sent without a length stop at the same limit while they are read.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }
        if (!request.Cookies.ContainsKey(antiforgeryOptions.Value.Cookie.Name!))
        {
            return Expired();
        }
        if (multipart && !await HasValidLeadingTokenAsync(context))
        {
            return Expired();
        }
        if (multipart)
        {
            // Read here, once (the page reuses the parsed form), so a body sent without a length
            // that grows over the limit ends on the 413 page, not as a model error on the form.
            await request.ReadFormAsync(context.RequestAborted);
        }
        return null;
    }

    /// <summary>
    /// Reads the first multipart field; when it is the antiforgery token, hands it on as the
    /// token header (which antiforgery reads instead of the form) and validates it.
    /// </summary>
    private async Task<bool> HasValidLeadingTokenAsync(HttpContext context)
    {
        var request = context.Request;
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return false;
        }
        var prefix = new byte[TokenPrefixBytes];
        var read = await request.Body.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, context.RequestAborted);
        request.Body = new ReplayStream(prefix.AsMemory(0, read), request.Body);

        string? token = null;
        try
        {
            var section = await new MultipartReader(boundary, new MemoryStream(prefix, 0, read)).ReadNextSectionAsync(context.RequestAborted);
            if (section?.GetContentDispositionHeader() is { } disposition &&
                disposition.Name.Value == antiforgeryOptions.Value.FormFieldName)
            {
                token = await new StreamReader(section.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
            }
        }
        catch (IOException)
        {
            // The first field did not fit in the prefix: it is not a token.
        }
        if (string.IsNullOrEmpty(token) || antiforgeryOptions.Value.HeaderName is not { } header)
        {
            return false;
        }
        request.Headers[header] = token;
        return await antiforgery.IsRequestValidAsync(context);
    }

    private static PageProblem TooLarge(long limit) => new(StatusCodes.Status413PayloadTooLarge, "Too large",
        $"This site accepts at most {Size(limit)} in one submission. Nothing was submitted.");

    private static PageProblem Expired() => new(StatusCodes.Status400BadRequest, "The form could not be accepted",
        "The form was not sent from a page of this site, or the page is too old. Open the page again and submit from there.");

    private static void Refuse(HttpContext context, PageProblem problem)
    {
        PageProblem.Attach(context, problem);
        context.Response.StatusCode = problem.StatusCode;
        // The unread body is not worth keeping the connection for.
        context.Response.Headers.Connection = "close";
    }

    private static string Size(long bytes) =>
        bytes >= 1024 * 1024 ? $"{bytes / (1024.0 * 1024.0):0.#} MB" : $"{(bytes + 1023) / 1024} KB";
}

/// <summary>A body whose first bytes were already read: gives them back, then the rest.</summary>
internal sealed class ReplayStream(ReadOnlyMemory<byte> head, Stream rest) : Stream
{
    private ReadOnlyMemory<byte> head = head;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (head.IsEmpty)
        {
            return await rest.ReadAsync(buffer, cancellationToken);
        }
        var count = Math.Min(buffer.Length, head.Length);
        head[..count].CopyTo(buffer);
        head = head[count..];
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Kestrel forbids synchronous reads of request bodies; so does this stream.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("use ReadAsync");
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
