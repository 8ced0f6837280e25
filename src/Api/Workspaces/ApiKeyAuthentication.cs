using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using EventSourcedJourneys.Api.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace EventSourcedJourneys.Api.Workspaces;

public static class WorkspaceClaims
{
    public const string Workspace = "workspace";
    public const string KeyKind = "key_kind";
}

public static class ApiKeyPolicies
{
    /// <summary>Management keys: everything but ingestion-only endpoints.</summary>
    public const string Management = "management";

    /// <summary>Write keys and management keys: the tracking (ingestion) endpoints.</summary>
    public const string Ingestion = "ingestion";

    /// <summary>Audit keys and management keys: the audit endpoints, which only read (docs/audit.md).</summary>
    public const string Audit = "audit";
}

/// <summary>
/// Identifies the workspace of a request by its key: <c>Authorization: Bearer &lt;key&gt;</c>, <c>X-Api-Key</c>,
/// or HTTP Basic with the key as user name and an empty password (how Segment's SDKs send their write key).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    WorkspaceRegistry registry,
    OperatorKey operatorKey,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = KeyFrom(Request);
        if (key is null) return AuthenticateResult.NoResult();

        if (key.Length <= 200 && operatorKey.Matches(key))
        {
            // The operator runs the deployment (admin API); the key belongs to no workspace and opens none.
            var operatorIdentity = new ClaimsIdentity([new Claim(WorkspaceClaims.KeyKind, OperatorKey.KeyKind)], SchemeName);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(operatorIdentity), SchemeName));
        }

        var found = key.Length <= 200 ? await registry.FindKeyAsync(key, Context.RequestAborted) : null;
        if (found is null) return AuthenticateResult.Fail("The API key is not known.");

        var identity = new ClaimsIdentity(
        [
            new Claim(WorkspaceClaims.Workspace, found.WorkspaceId),
            new Claim(WorkspaceClaims.KeyKind, found.Kind.ToString()),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        IsAdmin(Request) ? WriteProblemAsync(StatusCodes.Status401Unauthorized, "Missing or unknown operator key", OperatorKeyHelp()) :
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Missing or unknown API key",
            "Send the workspace's key as 'Authorization: Bearer <key>', as 'X-Api-Key: <key>', or as the user name " +
            "of HTTP Basic authentication with an empty password.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        IsAdmin(Request) ? WriteProblemAsync(StatusCodes.Status403Forbidden, "Only the operator key may do that", OperatorKeyHelp()) :
        Context.User.HasClaim(WorkspaceClaims.KeyKind, nameof(ApiKeyKind.Audit))
            ? WriteProblemAsync(StatusCodes.Status403Forbidden, "This key may not do that",
                "An audit key only reads decisions (/messages/{id}/explanation, /contacts/{id}/decisions, /audit/decisions) and changes " +
                "nothing; use the workspace's API key for this endpoint.")
            : WriteProblemAsync(StatusCodes.Status403Forbidden, "This key may not do that",
                "A write key can only send tracking calls; use the workspace's API key for this endpoint.");

    private static bool IsAdmin(HttpRequest request) => request.Path.StartsWithSegments("/admin");

    private string OperatorKeyHelp() => operatorKey.IsConfigured
        ? "The admin API takes the operator key (Journeys:AdminKey, or JOURNEYS_ADMIN_KEY in .data/admin.env on the embedded " +
          "database) as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'; workspace keys do not open it."
        : "No operator key is configured: set Journeys:AdminKey to use the admin API.";

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized) Response.Headers.WWWAuthenticate = "Bearer, Basic realm=\"journeys\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    internal static string? KeyFrom(HttpRequest request)
    {
        if (request.Headers.TryGetValue("X-Api-Key", out var header) && !string.IsNullOrWhiteSpace(header))
            return header.ToString().Trim();

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();

        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
                var user = decoded.Split(':', 2)[0];
                return user.Length > 0 ? user : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        return null;
    }
}

public static class ApiKeyAuthenticationExtensions
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyPolicies.Management, p => p.RequireClaim(WorkspaceClaims.KeyKind, nameof(ApiKeyKind.Management)))
            .AddPolicy(ApiKeyPolicies.Ingestion, p => p.RequireClaim(WorkspaceClaims.KeyKind, nameof(ApiKeyKind.Management), nameof(ApiKeyKind.Write)))
            .AddPolicy(ApiKeyPolicies.Audit, p => p.RequireClaim(WorkspaceClaims.KeyKind, nameof(ApiKeyKind.Management), nameof(ApiKeyKind.Audit)))
            .AddPolicy(OperatorKey.Policy, p => p.RequireClaim(WorkspaceClaims.KeyKind, OperatorKey.KeyKind))
            .SetDefaultPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName)
                .RequireClaim(WorkspaceClaims.KeyKind, nameof(ApiKeyKind.Management)).Build());
        return services;
    }
}
