using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using EventSourcedJourneys.Dispatch.Channels.Webhook;
using EventSourcedJourneys.Dispatch.Engine;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Api.Workspaces;

/// <summary>Creates workspaces with their keys, and finds the workspace a key belongs to.</summary>
public sealed partial class WorkspaceRegistry(IDocumentStore store, IClock clock) : IWorkspaceSettings, IWebhookSecrets
{
    private static readonly Duration CacheFor = Duration.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (ApiKey? Key, Instant Until)> _cache = new();

    [GeneratedRegex("^[a-z][a-z0-9-]{1,62}$")]
    private static partial Regex WorkspaceIdPattern();

    public static bool IsValidId(string id) => WorkspaceIdPattern().IsMatch(id);

    public async Task<IssuedKeys> CreateAsync(string id, string name, CancellationToken cancellation = default)
    {
        if (!IsValidId(id))
            throw new ArgumentException("A workspace id is 2–63 lower-case letters, digits or '-', starting with a letter.", nameof(id));

        var now = clock.GetCurrentInstant();
        var apiKey = NewKey("esj_key_");
        var writeKey = NewKey("esj_write_");
        var auditKey = NewKey("esj_audit_");

        await using var session = store.LightweightSession();
        session.Insert(new Workspace(id, name, now));
        session.Insert(new ApiKey(Hash(apiKey), id, ApiKeyKind.Management, apiKey[..12], now));
        session.Insert(new ApiKey(Hash(writeKey), id, ApiKeyKind.Write, writeKey[..14], now));
        session.Insert(new ApiKey(Hash(auditKey), id, ApiKeyKind.Audit, auditKey[..14], now));
        await session.SaveChangesAsync(cancellation);
        return new IssuedKeys(id, apiKey, writeKey, auditKey);
    }

    /// <summary>A new audit key for the workspace (one created before audit keys existed has none); earlier audit keys
    /// stay valid. The key is returned in clear this once; only its hash is stored.</summary>
    public async Task<(string Key, ApiKey Stored)> IssueAuditKeyAsync(string id, CancellationToken cancellation = default)
    {
        var auditKey = NewKey("esj_audit_");
        var stored = new ApiKey(Hash(auditKey), id, ApiKeyKind.Audit, auditKey[..14], clock.GetCurrentInstant());
        await using var session = store.LightweightSession();
        session.Insert(stored);
        await session.SaveChangesAsync(cancellation);
        return (auditKey, stored);
    }

    public async Task<bool> AnyAsync(CancellationToken cancellation = default)
    {
        await using var session = store.QuerySession();
        return await session.Query<Workspace>().AnyAsync(cancellation);
    }

    public async Task<Workspace?> FindAsync(string id, CancellationToken cancellation = default)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<Workspace>(id, cancellation);
    }

    /// <summary>The workspace's time zone; UTC when it names none that this machine knows.</summary>
    public async Task<DateTimeZone> TimeZoneOfAsync(string id, CancellationToken cancellation = default) =>
        await FindAsync(id, cancellation) is { } workspace && DateTimeZoneProviders.Tzdb.GetZoneOrNull(workspace.TimeZone) is { } zone
            ? zone
            : DateTimeZone.Utc;

    Task<DateTimeZone> IWorkspaceSettings.ZoneOfAsync(string workspace, CancellationToken cancellation) =>
        TimeZoneOfAsync(workspace, cancellation);

    async Task<string?> IWorkspaceSettings.WebhookUrlOfAsync(string workspace, CancellationToken cancellation) =>
        (await FindAsync(workspace, cancellation))?.WebhookUrl;

    async ValueTask<string?> IWebhookSecrets.SecretForAsync(string workspace, CancellationToken cancellation) =>
        (await FindAsync(workspace, cancellation))?.WebhookSecret;

    public static string NewWebhookSecret() => "whsec_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    public async Task<Workspace> UpdateAsync(Workspace workspace, CancellationToken cancellation = default)
    {
        await using var session = store.LightweightSession();
        session.Update(workspace);
        await session.SaveChangesAsync(cancellation);
        return workspace;
    }

    public async Task<ApiKey?> FindKeyAsync(string key, CancellationToken cancellation = default)
    {
        var hash = Hash(key);
        var now = clock.GetCurrentInstant();
        if (_cache.TryGetValue(hash, out var cached) && cached.Until > now) return cached.Key;

        await using var session = store.QuerySession();
        var found = await session.LoadAsync<ApiKey>(hash, cancellation);
        _cache[hash] = (found, now + CacheFor);
        return found;
    }

    private static string NewKey(string prefix) =>
        prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();

    private static string Hash(string key) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant();
}
