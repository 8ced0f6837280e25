using NodaTime;

namespace EventSourcedJourneys.Api.Workspaces;

/// <summary>
/// A brand sharing this deployment. Its id is the Marten tenant id of every stream, document, scheduled message
/// and report that belongs to it. The registry of workspaces and keys is the one thing that is not per workspace.
/// </summary>
/// <param name="TimeZone">TZDB id of the workspace's own clock: campaign dates (<c>active from … to</c>),
/// <c>workspace</c> send windows, and the zone of contacts whose profile names none.</param>
/// <param name="WebhookUrl">Where <c>send webhook</c> messages are posted; <paramref name="WebhookSecret"/> signs them.</param>
public sealed record Workspace(string Id, string Name, Instant CreatedAt, string TimeZone = "UTC", string? WebhookUrl = null,
    string? WebhookSecret = null);

/// <summary>A workspace as the API shows it: the webhook secret is never shown again after it was issued.</summary>
public sealed record WorkspaceView(string Id, string Name, Instant CreatedAt, string TimeZone, string? WebhookUrl, bool HasWebhookSecret,
    string? IssuedWebhookSecret = null)
{
    public static WorkspaceView Of(Workspace w, string? issuedSecret = null) =>
        new(w.Id, w.Name, w.CreatedAt, w.TimeZone, w.WebhookUrl, w.WebhookSecret is not null, issuedSecret);
}

public enum ApiKeyKind
{
    /// <summary>Reads and manages a workspace through the API (rules, reports, contacts).</summary>
    Management,

    /// <summary>Only sends tracking calls (Segment's "write key"); safe to embed in apps and sites.</summary>
    Write,

    /// <summary>An auditor's key: reads the decisions and their explanations (docs/audit.md), changes nothing.</summary>
    Audit,
}

/// <summary>An issued key, stored by the SHA-256 of its text: the key itself is shown once and never kept.</summary>
public sealed record ApiKey(string Id, string WorkspaceId, ApiKeyKind Kind, string Prefix, Instant IssuedAt);

/// <summary>The keys of a new workspace, in clear text, for the one time they are shown.</summary>
public sealed record IssuedKeys(string WorkspaceId, string ApiKey, string WriteKey, string AuditKey);
