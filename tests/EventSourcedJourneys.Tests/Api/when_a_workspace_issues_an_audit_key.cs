using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using EventSourcedJourneys.Tests.Rules;

namespace EventSourcedJourneys.Tests.Api;

/// <summary>A workspace created before audit keys existed, or one with a second auditor, gets a new audit key.</summary>
public sealed class when_a_workspace_issues_an_audit_key(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task the_new_key_reads_decisions_and_changes_nothing()
    {
        var issued = await App.SendAsync(HttpMethod.Post, "/workspace/audit-keys", null, 201);
        var key = issued.GetProperty("auditKey").GetString()!;
        Assert.StartsWith("esj_audit_", key);
        Assert.Equal(key[..14], issued.GetProperty("prefix").GetString());

        await App.PostCallAsync("/v1/track", """{"userId": "ana", "event": "viewed", "messageId": "ak-1"}""");
        var contact = (await App.ContactOfUserAsync("ana")).Id();
        await App.SendAsync(HttpMethod.Get, $"/contacts/{contact}/decisions", null, 200, key: key);
        await App.SendAsync(HttpMethod.Put, "/rules/viewer", new { text = "segment viewer =\n    event \"viewed\" ever" }, 403, key: key);
        // The earlier audit key stays valid.
        await App.SendAsync(HttpMethod.Get, $"/contacts/{contact}/decisions", null, 200, key: App.Acme.AuditKey);
    }

    [Fact]
    public async Task only_the_api_key_issues_one()
    {
        await App.SendAsync(HttpMethod.Post, "/workspace/audit-keys", null, 403, key: App.Acme.AuditKey);
        await App.SendAsync(HttpMethod.Post, "/workspace/audit-keys", null, 403, key: App.Acme.WriteKey);
        await App.SendAsync(HttpMethod.Post, "/workspace/audit-keys", null, 401, key: "esj_key_unknown");
    }
}
