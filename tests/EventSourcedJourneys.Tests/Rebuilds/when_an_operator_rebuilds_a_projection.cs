using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Rebuilds;

/// <summary>
/// POST /admin/projections/{name}/rebuild: blue/green in the background. An open transaction that has locked the events
/// table for appending (what an append in flight does) holds the rebuild just before its swap, which makes "while the
/// rebuild runs" a deterministic moment in these tests.
/// </summary>
public sealed class when_an_operator_rebuilds_a_projection(AppFixture app) : IntegrationTest(app)
{
    private static readonly string[] MartenReadModels =
        ["contact-delivery-log", "contact-profile", "inbox", "live-rule-set", "rule-state", "scheduled-message"];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var now = App.Clock.GetCurrentInstant();
        await App.TrackAsync("/v1/identify", new { userId = "ana", traits = new { first_name = "Ana", email = "ana@example.com" }, timestamp = At(now) });
        await App.TrackAsync("/v1/track", new { userId = "ana", @event = "page_viewed", properties = new { path = "/" }, timestamp = At(now) });
    }

    [Fact]
    public async Task every_read_model_is_listed_with_its_generation_and_state()
    {
        var (list, _) = await App.AdminAsync(HttpMethod.Get, "/admin/projections", 200);

        var names = list.EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList();
        Assert.Superset(MartenReadModels.ToHashSet(), names.ToHashSet());
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        foreach (var projection in list.EnumerateArray())
        {
            Assert.True(projection.GetProperty("generation").GetInt32() >= 0);
            Assert.Contains(projection.GetProperty("state").GetString(), new[] { "idle", "rebuilding", "failed" });
        }
    }

    [Fact]
    public async Task only_the_operator_key_opens_the_admin_api()
    {
        var (withWorkspaceKey, _) = await App.AdminAsync(HttpMethod.Get, "/admin/projections", 403, key: App.Acme.ApiKey);
        Assert.Equal("Only the operator key may do that", withWorkspaceKey.GetProperty("title").GetString());

        var (withoutKey, _) = await App.AdminAsync(HttpMethod.Post, "/admin/projections/inbox/rebuild", 401, key: null);
        Assert.Equal("Missing or unknown operator key", withoutKey.GetProperty("title").GetString());
        Assert.NotEqual(RebuildState.Running, App.Rebuilds().Latest("inbox")?.State);
    }

    [Fact]
    public async Task an_unknown_projection_is_a_404_naming_it_and_the_known_ones()
    {
        var (posted, _) = await App.AdminAsync(HttpMethod.Post, "/admin/projections/funnel-of-doom/rebuild", 404);
        Assert.Equal("Unknown projection", posted.GetProperty("title").GetString());
        Assert.Equal("funnel-of-doom", posted.GetProperty("name").GetString());
        Assert.Contains("contact-profile", posted.GetProperty("detail").GetString());

        var (read, _) = await App.AdminAsync(HttpMethod.Get, "/admin/projections/funnel-of-doom/rebuild", 404);
        Assert.Equal("Unknown projection", read.GetProperty("title").GetString());
    }

    [Fact]
    public async Task the_old_generation_is_served_until_the_new_one_is_complete_and_a_second_rebuild_is_refused()
    {
        var before = await App.GenerationAsync("contact-profile");
        var profileBefore = await App.GetAsync("/contacts?userId=ana");
        var tableBefore = await LiveTableAsync();

        await using (var appendInFlight = await AppendInFlightAsync())
        {
            var (started, location) = await App.AdminAsync(HttpMethod.Post, "/admin/projections/contact-profile/rebuild", 202);
            Assert.Equal("/admin/projections/contact-profile/rebuild", location);
            Assert.Equal("running", started.GetProperty("state").GetString());

            var (refused, _) = await App.AdminAsync(HttpMethod.Post, "/admin/projections/contact-profile/rebuild", 409);
            Assert.Equal("This projection is already being rebuilt", refused.GetProperty("title").GetString());
            Assert.Equal("contact-profile", refused.GetProperty("name").GetString());

            var (running, _) = await App.AdminAsync(HttpMethod.Get, location!, 200);
            Assert.Equal("running", running.GetProperty("state").GetString());
            Assert.InRange(running.GetProperty("percentage").GetDouble(), 0, 100);
            var (listed, _) = await App.AdminAsync(HttpMethod.Get, "/admin/projections", 200);
            Assert.Equal("rebuilding", listed.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "contact-profile")
                .GetProperty("state").GetString());

            // Reads are served from the current generation meanwhile.
            Assert.Equal(profileBefore.GetRawText(), (await App.GetAsync("/contacts?userId=ana")).GetRawText());
            await appendInFlight.CommitAsync();
        }

        var finished = await App.RebuildFinishedAsync("contact-profile");
        Assert.True(finished.State == RebuildState.Succeeded, finished.Error);
        var (done, _) = await App.AdminAsync(HttpMethod.Get, "/admin/projections/contact-profile/rebuild", 200);
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        Assert.Equal(100, done.GetProperty("percentage").GetDouble());
        Assert.Equal(before + 1, done.GetProperty("generation").GetInt32());
        Assert.True(done.GetProperty("total").GetInt64() >= 2);
        Assert.Equal(before + 1, await App.GenerationAsync("contact-profile"));
        Assert.Equal(profileBefore.GetRawText(), (await App.GetAsync("/contacts?userId=ana")).GetRawText());
        Assert.NotEqual(tableBefore, await LiveTableAsync());
    }

    /// <summary>The identity of the table reads go to: a new one after a swap.</summary>
    private async Task<uint> LiveTableAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 'journeys.mt_doc_contactprofile'::regclass::oid", connection);
        return (uint)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task events_appended_while_it_rebuilds_are_in_the_rebuilt_read_model()
    {
        var store = App.Host.Services.GetRequiredService<IDocumentStore>();
        Guid contactId;
        await using (var query = store.QuerySession("acme"))
            contactId = (await ContactProfiles.FindAsync(query, Identity.User("ana")))!.Value;

        await using (var appendInFlight = await AppendInFlightAsync())
        {
            await App.AdminAsync(HttpMethod.Post, "/admin/projections/contact-profile/rebuild", 202);

            // Appended (and projected inline into the current generation) after the rebuild started, committed before it ends.
            var options = SessionOptions.ForTransaction(appendInFlight.Transaction);
            options.TenantId = "acme";
            await using var session = store.LightweightSession(options);
            var traits = JsonSerializer.SerializeToElement(new { plan = "gold" });
            var context = JsonSerializer.SerializeToElement(new { timezone = "Europe/Lisbon" });
            var now = App.Clock.GetCurrentInstant();
            session.Events.Append(contactId,
                new ContactIdentified(contactId, "m-during-rebuild", traits, context, now, now, "ana", null));
            await session.SaveChangesAsync();
            Assert.Equal(RebuildState.Running, App.Rebuilds().Latest("contact-profile")!.State);
            await appendInFlight.CommitAsync();
        }

        var finished = await App.RebuildFinishedAsync("contact-profile");
        Assert.True(finished.State == RebuildState.Succeeded, finished.Error);
        await using var after = store.QuerySession("acme");
        var profile = (await ContactProfiles.LoadAsync(after, contactId))!;
        Assert.Equal("gold", profile.Traits["plan"].GetString());
        Assert.Equal("Ana", profile.Traits["first_name"].GetString());
        Assert.Equal("Europe/Lisbon", profile.LatestContext!.TimeZone);
        Assert.Equal(3, profile.Events);
    }

    /// <summary>An open transaction holding the lock an append takes on the events table.</summary>
    private async Task<AppendInFlight> AppendInFlightAsync()
    {
        var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("lock table journeys.mt_events in row exclusive mode", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new AppendInFlight(connection, transaction);
    }

    private sealed class AppendInFlight(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public NpgsqlTransaction Transaction => transaction;

        public Task CommitAsync() => transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
