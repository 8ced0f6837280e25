using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Tests.Rebuilds;

/// <summary>
/// The contact profile's next generation is folded stream by stream by parallel readers over ranges of streams
/// (ADR 0015), not by the daemon: with hundreds of contacts in two workspaces — so every range boundary falls between
/// streams of real data — the rebuilt table equals what inline processing wrote, row for row, including each document's
/// revision (the version of its stream's last event).
/// </summary>
public sealed class when_a_single_stream_read_model_is_rebuilt_stream_by_stream(AppFixture app) : IntegrationTest(app)
{
    private const int ContactsPerWorkspace = 150;

    [Fact]
    public async Task the_rebuilt_profiles_and_their_revisions_equal_the_live_ones()
    {
        var profile = App.Rebuilds().All.OfType<MartenReadModel>().Single(m => m.Name == "contact-profile");
        Assert.True(profile.RebuildsStreamByStream);
        await AppendHistoriesAsync(App.Acme.WorkspaceId);
        await AppendHistoriesAsync(App.Globex.WorkspaceId);
        var live = await RowsAsync(profile);
        Assert.Equal(2 * ContactsPerWorkspace, live.Count);
        await ExecuteAsync($"update {profile.LiveTable.QualifiedName} set data = data || '{{\"damaged\": true}}'::jsonb, mt_version = 0");

        var rebuilt = await App.RebuildAsync("contact-profile");

        Assert.True(rebuilt.State == RebuildState.Succeeded, rebuilt.Error);
        Assert.Equal(live, await RowsAsync(profile));
    }

    /// <summary>Contacts with histories of different lengths, traits, contexts with devices, consent changes and a merge —
    /// appended as ingestion does, through the application's store, so the inline projection writes the live profiles.</summary>
    private async Task AppendHistoriesAsync(string workspace)
    {
        var start = App.Clock.GetCurrentInstant() - Duration.FromDays(30);
        var context = JsonSerializer.SerializeToElement(new { timezone = "Europe/Paris", locale = "fr-FR", device = new { token = "t", type = "ios" } });
        var none = JsonSerializer.SerializeToElement(new { });
        await using var session = App.Host.DocumentStore().LightweightSession(workspace);
        var ids = Enumerable.Range(0, ContactsPerWorkspace).Select(_ => Guid.CreateVersion7()).ToList();
        for (var c = 0; c < ids.Count; c++)
        {
            var id = ids[c];
            var user = $"{workspace}-user-{c}";
            var events = new List<object> { new IdentityLinked(id, Identity.User(user), $"{user}-0", start) };
            for (var e = 1; e <= c % 13 + 1; e++)
            {
                // Event times out of arrival order now and then: latest-by-event-time must come out the same.
                var at = start + Duration.FromMinutes(e % 4 == 0 ? e - 3 : e);
                events.Add(e % 5 == 0
                    ? new ContactIdentified(id, $"{user}-{e}", JsonSerializer.SerializeToElement(new { plan = $"plan-{e}", email = $"{user}@example.com" }),
                        e % 2 == 0 ? context : none, at, at, user, null)
                    : new ContactTracked(id, $"{user}-{e}", "cart_updated", JsonSerializer.SerializeToElement(new { total = e }),
                        e % 3 == 0 ? context : none, at, at, user, null));
            }
            if (c % 7 == 0) events.Add(new ChannelSubscriptionChanged(id, Channel.Email, SubscriptionStatus.Unsubscribed, $"{user}-u", "track", start));
            session.Events.StartStream(id, events);
        }
        // The first contact absorbed the second: the merge events are on both streams.
        session.Events.Append(ids[0], new ContactMerged(ids[0], ids[1], [Identity.User($"{workspace}-user-1")], $"{workspace}-merge", start));
        session.Events.Append(ids[1], new ContactMergedInto(ids[1], ids[0], $"{workspace}-merge", start));
        await session.SaveChangesAsync();
    }

    private async Task<List<string>> RowsAsync(MartenReadModel model)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand(
            $"select tenant_id || ' ' || id || ' ' || mt_version || ' ' || data::text from {model.LiveTable.QualifiedName} order by tenant_id, id",
            connection);
        var rows = new List<string>();
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
