using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Workspaces;

/// <param name="WebhookUrl">Where <c>send webhook</c> messages go (https, or http for local receivers); a signing
/// secret is issued with the first URL and shown once in the answer.</param>
public sealed record ChangeWorkspace(string? Name, string? TimeZone, string? WebhookUrl = null);

/// <summary>The calling key's workspace: its name and its time zone.</summary>
public static class GetWorkspaceEndpoint
{
    [WolverineGet("/workspace", Name = "GetWorkspace")]
    [Tags("Workspace")]
    public static async Task<WorkspaceView?> Get(IMessageContext context, WorkspaceRegistry registry, CancellationToken cancellation) =>
        await registry.FindAsync(context.TenantId!, cancellation) is { } workspace ? WorkspaceView.Of(workspace) : null;
}

public static class ChangeWorkspaceEndpoint
{
    public static ProblemDetails Validate(ChangeWorkspace change)
    {
        var errors = new Dictionary<string, string[]>();
        if (change.TimeZone is { } zone && DateTimeZoneProviders.Tzdb.GetZoneOrNull(zone) is null)
            errors["timeZone"] = [$"'{zone}' is not a time zone id such as \"Europe/Paris\" or \"Asia/Shanghai\"."];
        if (change.WebhookUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
            errors["webhookUrl"] = [$"'{url}' is not an absolute http(s) URL."];
        if (change.Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > 200))
            errors["name"] = ["A workspace name has 1 to 200 characters."];
        return errors.Count == 0
            ? WolverineContinue.NoProblems
            : new ValidationProblemDetails(errors) { Status = 400, Title = "The workspace cannot be changed so" };
    }

    [WolverinePut("/workspace", Name = "ChangeWorkspace")]
    [Tags("Workspace")]
    public static async Task<WorkspaceView?> Put(ChangeWorkspace change, IMessageContext context, WorkspaceRegistry registry,
        CancellationToken cancellation)
    {
        if (await registry.FindAsync(context.TenantId!, cancellation) is not { } workspace) return null;
        var issued = change.WebhookUrl is not null && workspace.WebhookSecret is null ? WorkspaceRegistry.NewWebhookSecret() : null;
        var changed = await registry.UpdateAsync(workspace with
        {
            Name = change.Name?.Trim() ?? workspace.Name,
            TimeZone = change.TimeZone ?? workspace.TimeZone,
            WebhookUrl = change.WebhookUrl ?? workspace.WebhookUrl,
            WebhookSecret = workspace.WebhookSecret ?? issued,
        }, cancellation);
        return WorkspaceView.Of(changed, issued);
    }
}

/// <summary>An audit key just issued: <paramref name="AuditKey"/> is shown this once.</summary>
public sealed record IssuedAuditKey(string AuditKey, string Prefix, Instant IssuedAt);

/// <summary>
/// Issues an auditor's key for the calling key's workspace (API key only): for a workspace created before audit keys
/// existed, or a second auditor. Earlier audit keys stay valid; revoking keys belongs to the workspaces' roles.
/// </summary>
public static class IssueAuditKeyEndpoint
{
    [WolverinePost("/workspace/audit-keys", Name = "IssueAuditKey")]
    [Tags("Workspace")]
    [ProducesResponseType<IssuedAuditKey>(StatusCodes.Status201Created)]
    public static async Task<IResult> Post(IMessageContext context, WorkspaceRegistry registry, CancellationToken cancellation)
    {
        var (key, stored) = await registry.IssueAuditKeyAsync(context.TenantId!, cancellation);
        return Results.Created("/workspace", new IssuedAuditKey(key, stored.Prefix, stored.IssuedAt));
    }
}
