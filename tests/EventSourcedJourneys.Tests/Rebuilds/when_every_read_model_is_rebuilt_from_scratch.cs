using System.Text;
using Alba;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using Npgsql;
using Wolverine.Tracking;
using NodaTime;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Rebuilds;

/// <summary>
/// Provably right (issue #7, 5a): what live processing built — ingestion, identity merges, rules published, paused and
/// archived, the engine's decisions, deliveries, a cancellation, a message withheld for a control group and that
/// control group's conversion, an inbox read — is exactly what a rebuild of every read
/// model from the events alone produces, row for row. Iterates the registry, so read models added later are covered.
/// </summary>
public sealed class when_every_read_model_is_rebuilt_from_scratch(AppFixture app) : IntegrationTest(app)
{
    private const string Rules = """
        segment active_buyers =
            count(event "order_completed" in last 45d) >= 1

        trigger abandoned_cart_over_100
            on event "cart_updated" where properties.total > 100
            wait 30m
            cancel if event "order_completed"
            audience segment active_buyers
            send inapp "cart-reminder"

        trigger wishlist_nudge
            on event "wishlist_added"
            send inapp "wishlist-nudge"
            goal event "order_completed" within 3d
            control group 50%
        """;

    private const string BrowseReminder = """
        trigger browse_reminder
            on event "product_viewed"
            wait 1d
            send inapp "browse-reminder"
        """;

    private const string Winback = """
        trigger winback
            on event "app_opened"
            wait 7d
            send inapp "winback"
        """;

    [Fact]
    public async Task each_read_model_has_the_same_content_as_live_processing_produced()
    {
        await DriveTheLiveSystemAsync();
        var live = await ReadModelSnapshot.TakeAsync(App.ConnectionString);
        foreach (var model in App.Rebuilds().All.OfType<MartenReadModel>())
            Assert.True(live[$"{model.LiveTable.Schema}.{model.LiveTable.Name}"].Count > 0, $"The scenario left '{model.Name}' empty.");
        // Damage what live processing wrote: only a rebuild from the events (not a copy of the tables) can restore it.
        foreach (var model in App.Rebuilds().All.OfType<MartenReadModel>())
            await ExecuteAsync($"update {model.LiveTable.QualifiedName} set data = data || '{{\"damaged\": true}}'::jsonb");
        Assert.NotEqual(live, await ReadModelSnapshot.TakeAsync(App.ConnectionString));

        foreach (var projection in App.Rebuilds().All)
        {
            var rebuilt = await App.RebuildAsync(projection.Name);
            Assert.True(rebuilt.State == RebuildState.Succeeded, $"{projection.Name}: {rebuilt.Error}");
        }

        var fromEvents = await ReadModelSnapshot.TakeAsync(App.ConnectionString);
        Assert.Equal(live.Keys, fromEvents.Keys);
        foreach (var (table, rows) in live) Assert.True(rows.SequenceEqual(fromEvents[table]), Difference(table, rows, fromEvents[table]));
        Assert.Equal(0L, await ShadowSchemasLeftAsync());
    }

    private async Task DriveTheLiveSystemAsync()
    {
        await App.PublishDocumentAsync(Rules);
        await App.SaveRuleAsync("browse_reminder", BrowseReminder);
        await App.PublishAsync("browse_reminder");
        await App.SendAsync(HttpMethod.Post, "/rules/browse_reminder/pause", null, 200);
        await App.SaveRuleAsync("winback", Winback);
        await App.PublishAsync("winback");
        await App.SendAsync(HttpMethod.Post, "/rules/winback/archive", null, 200);
        await App.SaveTemplateAsync("cart-reminder", Channel.InApp, "You left {{ properties.total }} in your cart, {{ traits.first_name }}.",
            title: "Still thinking?");

        var now = App.Clock.GetCurrentInstant();
        foreach (var (user, name) in new[] { ("ana", "Ana"), ("bob", "Bob") })
        {
            await App.TrackAsync("/v1/identify", new
            {
                userId = user, traits = new { first_name = name, email = $"{user}@example.com" }, timestamp = At(now),
                context = new { timezone = "Europe/Paris", locale = "fr-FR" },
            });
            await App.TrackAsync("/v1/track", new { userId = user, @event = "order_completed", properties = new { total = 40 },
                timestamp = At(now - Duration.FromDays(10)) });
        }
        // An anonymous visitor who signs up: two identities, one contact.
        await App.TrackAsync("/v1/page", new { anonymousId = "device-9", name = "Pricing", timestamp = At(now) });
        await App.TrackAsync("/v1/identify", new { anonymousId = "device-9", userId = "cy", traits = new { plan = "trial" }, timestamp = At(now) });
        await App.TrackAsync("/v1/track", new { userId = "cy", @event = "cart_updated", properties = new { total = 300 }, timestamp = At(now) });
        await GlobexIdentifyAsync("zed");

        // Ana's reminder is delivered to her inbox, and she reads it; Bob orders at minute 29, which cancels his.
        await App.TrackAndSettleAsync("/v1/track", new { userId = "ana", @event = "cart_updated", properties = new { total = 150 }, timestamp = At(now) });
        await App.TrackAndSettleAsync("/v1/track", new { userId = "bob", @event = "cart_updated", properties = new { total = 220 }, timestamp = At(now) });
        // Bob's bucket for wishlist_nudge is 419 (docs/semantics.md), inside its 50% control group: withheld, and his order
        // at minute 29 is the control group's conversion.
        await App.TrackAndSettleAsync("/v1/track", new { userId = "bob", @event = "wishlist_added", properties = new { }, timestamp = At(now) });
        await App.AdvanceClockAsync(Duration.FromMinutes(29));
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "bob", @event = "order_completed", properties = new { total = 220 }, timestamp = At(App.Clock.GetCurrentInstant()),
        });
        await App.Host.TrackActivity().Timeout(TimeSpan.FromSeconds(60)).WaitForCondition(new BothDecided())
            .ExecuteAndWaitAsync(_ => App.AdvanceClockAsync(Duration.FromMinutes(1)));

        var inbox = await App.SendAsync(HttpMethod.Get, "/v1/inbox/ana", null, 200, key: App.Acme.WriteKey);
        var messageId = inbox.GetProperty("items")[0].GetProperty("messageId").GetString();
        await App.SendAsync(HttpMethod.Post, $"/v1/inbox/ana/messages/{messageId}/read", null, 200, key: App.Acme.WriteKey);

        var messages = await App.MessagesAsync();
        Assert.Contains(messages, m => m.Status == ScheduledMessageStatus.Sent);
        Assert.Contains(messages, m => m.Status == ScheduledMessageStatus.Cancelled);
        var withheld = Assert.Single(messages, m => m.Status == ScheduledMessageStatus.Withheld);
        Assert.Single((await App.DecisionsAsync(withheld.ContactId)).OfType<ControlGroupConverted>());
    }

    /// <summary>Both due messages decided (one delivered, one cancelled): the engine is at rest.</summary>
    private sealed class BothDecided : ITrackedCondition
    {
        private int _due;
        private int _delivered;

        public void Record(EnvelopeRecord record)
        {
            if (record.MessageEventType != MessageEventType.MessageSucceeded) return;
            if (record.Message is MessageDue) _due++;
            if (record.Message is DeliverMessage) _delivered++;
        }

        public bool IsCompleted() => _due >= 2 && _delivered >= 1;
    }

    private async Task GlobexIdentifyAsync(string user)
    {
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{App.Globex.WriteKey}:"));
        await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Basic {basic}");
            s.Post.Json(new { userId = user, traits = new { plan = "pro" }, timestamp = At(App.Clock.GetCurrentInstant()) }).ToUrl("/v1/identify");
            s.StatusCodeShouldBe(200);
        });
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> ShadowSchemasLeftAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select count(*) from information_schema.schemata where schema_name like 'journeys\\_next\\_%'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string Difference(string table, List<string> live, List<string> rebuilt) =>
        $"{table} differs after the rebuild.\nOnly live:\n  {string.Join("\n  ", live.Except(rebuilt))}\n" +
        $"Only rebuilt:\n  {string.Join("\n  ", rebuilt.Except(live))}";
}
