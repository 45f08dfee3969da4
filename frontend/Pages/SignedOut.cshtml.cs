using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CeleryKube.Frontend.Pages;

/// <summary>
/// Where signing out lands. It must be open to everyone: a page that needs a sign-in would send
/// the browser straight back to the issuer, which the pages' CSP (<c>form-action 'self'</c>)
/// refuses at the end of a form post.
/// </summary>
[AllowAnonymous]
public sealed class SignedOutModel : PageModel
{
}
