using System.Runtime.CompilerServices;
using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Reports;
using EventSourcedJourneys.Tests.Infrastructure;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Tests.Ingestion;

/// <summary>
/// Contact events are appended in bulk, bypassing Marten's per-stream append and inline profile (ADR 0016). What they
/// leave behind must be exactly what Marten would have written: these tests hold the bulk path to that.
/// </summary>
public sealed class when_a_batch_is_appended_in_bulk(AppFixture app) : IntegrationTest(app)
{
    private IDocumentStore Store => App.Host.Services.GetRequiredService<IDocumentStore>();

    [Fact]
    public void no_inline_projection_but_the_profile_reads_the_events_that_take_the_bulk_path()
    {
        foreach (var projection in ((StoreOptions)Store.Options).Projections.All.Where(p => p.Lifecycle == ProjectionLifecycle.Inline))
        {
            if (projection is ContactProfileProjection) continue;
            if (projection is ProjectionBase { IncludedEventTypes.Count: > 0 } aggregation)
            {
                var read = aggregation.IncludedEventTypes
                    .Where(handled => ContactStreamAppend.ProfileOnlyEvents.Any(handled.IsAssignableFrom)).ToList();
                Assert.True(read.Count == 0, $"{projection.Name} reads {string.Join(", ", read)}: take it out of ContactStreamAppend.ProfileOnlyEvents");
                continue;
            }
            // A hand-written projection: only the campaign and attribution reports exist; they must ignore these events.
            Assert.Equal("ReportsProjection", projection.Name);
            var rows = ReportsProjection.NewRows();
            foreach (var type in ContactStreamAppend.ProfileOnlyEvents)
            {
                foreach (var model in rows) model.Add("acme", RuntimeHelpers.GetUninitializedObject(type));
            }
            Assert.All(rows, r => Assert.True(r.IsEmpty, $"{r.ReadModel} reads contact events"));
        }
    }

    [Fact]
    public async Task the_stored_profile_is_what_marten_folds_from_the_stored_events()
    {
        await App.PostCallAsync("/v1/batch", """
            {"batch": [
              {"type": "track", "anonymousId": "dev-1", "event": "App Installed", "messageId": "b-1", "context": {"timezone": "Europe/Paris", "device": {"token": "tok-1", "type": "ios"}}},
              {"type": "identify", "anonymousId": "dev-1", "userId": "ada", "traits": {"email": "ada@example.com", "plan": "paid", "subscriptions": {"sms": "unsubscribed"}}, "messageId": "b-2"},
              {"type": "page", "userId": "ada", "name": "Pricing", "messageId": "b-3"},
              {"type": "screen", "userId": "ada", "name": "Home", "messageId": "b-4"},
              {"type": "group", "userId": "ada", "groupId": "acme-inc", "messageId": "b-5"},
              {"type": "track", "userId": "ada", "event": "Unsubscribed", "properties": {"channel": "email"}, "messageId": "b-6"},
              {"type": "track", "userId": "bob", "event": "Viewed", "messageId": "b-7", "timestamp": "2026-11-30T10:00:00Z"}
            ]}
            """);
        await App.PostCallAsync("/v1/alias", """{"previousId": "ada-old", "userId": "ada", "messageId": "b-8"}""");

        foreach (var user in new[] { "ada", "bob" })
        {
            var contact = Guid.Parse((await App.ContactOfUserAsync(user)).Id());
            await using var session = Store.LightweightSession(App.Acme.WorkspaceId);
            var stored = await session.LoadAsync<ContactProfile>(contact);
            var folded = await session.Events.AggregateStreamAsync<ContactProfile>(contact);
            Assert.NotNull(stored);
            Assert.Equal(Json(folded!), Json(stored!));

            var (streamVersion, profileVersion, versions) = await VersionsAsync(contact);
            Assert.Equal(Enumerable.Range(1, (int)streamVersion).Select(v => (long)v), versions);
            Assert.Equal(streamVersion, profileVersion);
        }
    }

    [Fact]
    public async Task its_rows_are_the_rows_marten_writes_and_versions_stay_contiguous_around_a_marten_append()
    {
        await App.PostCallAsync("/v1/track", """{"userId": "eve", "event": "Viewed", "properties": {"sku": "s-1"}, "messageId": "c-1"}""");
        var contact = Guid.Parse((await App.ContactOfUserAsync("eve")).Id());

        // An append through Marten (as the engine and receipts do) between two bulk ones.
        await using (var session = Store.LightweightSession(App.Acme.WorkspaceId))
        {
            session.Events.Append(contact, new ContactTracked(contact, "c-2", "Viewed", JsonDocument.Parse("""{"sku": "s-1"}""").RootElement,
                JsonDocument.Parse("{}").RootElement, AppFixture.Start, AppFixture.Start, "eve", null));
            await session.SaveChangesAsync();
        }
        await App.PostCallAsync("/v1/track", """{"userId": "eve", "event": "Viewed", "properties": {"sku": "s-1"}, "messageId": "c-3"}""");

        var rows = await EventRowsAsync(contact);
        Assert.Equal([1L, 2L, 3L, 4L], rows.Select(r => r.Version));
        Assert.Equal(rows.Select(r => r.Sequence).Order(), rows.Select(r => r.Sequence));
        Assert.DoesNotContain(Guid.Empty, rows.Select(r => r.Id));
        Assert.Equal(rows.Count, rows.Select(r => r.Id).Distinct().Count());
        // The tracked events — one appended by Marten, two in bulk — are stored alike.
        var tracked = rows.Where(r => r.Type == "contact_tracked").ToList();
        Assert.Equal(3, tracked.Count);
        Assert.Single(tracked.Select(r => r.DotNetType).Distinct());
        Assert.Single(tracked.Select(r => r.Timestamp).Distinct());
        Assert.Equal(["c-1", "c-2", "c-3"], tracked.Select(r => JsonDocument.Parse(r.Data).RootElement.GetProperty("MessageId").GetString()));
        Assert.Equal(Keys(tracked[1].Data), Keys(tracked[0].Data));

        await using var reading = Store.QuerySession(App.Acme.WorkspaceId);
        var events = await reading.Events.FetchStreamAsync(contact);
        Assert.Equal(4, events.Count);
        Assert.Equal(3, events.Count(e => e.Data is ContactTracked { Event: "Viewed" }));
        var profile = await reading.LoadAsync<ContactProfile>(contact);
        Assert.Equal(3, profile!.Events); // tracking calls; the identity link is bookkeeping
        Assert.Equal(Json((await reading.Events.AggregateStreamAsync<ContactProfile>(contact))!), Json(profile));
        var (streamVersion, profileVersion, _) = await VersionsAsync(contact);
        Assert.Equal(4, streamVersion);
        Assert.Equal(4, profileVersion);
    }

    private string Json(ContactProfile profile) => Store.Options.Serializer().ToJson(profile);

    private static string[] Keys(string json) => JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name).Order().ToArray();

    private sealed record EventRow(Guid Id, long Sequence, long Version, string Type, string DotNetType, DateTimeOffset Timestamp, string Data);

    private async Task<List<EventRow>> EventRowsAsync(Guid contact)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select id, seq_id, version, type, mt_dotnet_type, timestamp, data::text from journeys.mt_events " +
            "where tenant_id = @tenant and stream_id = @stream order by version", connection);
        command.Parameters.AddWithValue("tenant", App.Acme.WorkspaceId);
        command.Parameters.AddWithValue("stream", contact);
        var rows = new List<EventRow>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(new EventRow(reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6)));
        return rows;
    }

    private async Task<(long Stream, long Profile, List<long> Versions)> VersionsAsync(Guid contact)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select s.version, p.mt_version, array(select version from journeys.mt_events e where e.tenant_id = s.tenant_id and e.stream_id = s.id order by seq_id) " +
            "from journeys.mt_streams s join journeys.mt_doc_contactprofile p on p.tenant_id = s.tenant_id and p.id = s.id " +
            "where s.tenant_id = @tenant and s.id = @stream", connection);
        command.Parameters.AddWithValue("tenant", App.Acme.WorkspaceId);
        command.Parameters.AddWithValue("stream", contact);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<long[]>(2).ToList());
    }
}
