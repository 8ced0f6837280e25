using System.Text.Json;
using EventSourcedJourneys.Dispatch.Preview;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl;
using JasperFx.Events;
using NodaTime;

namespace EventSourcedJourneys.Tests.Preview;

/// <summary>The preview's simulation of one contact, called directly: no database, explicit instants.</summary>
public sealed class when_simulating_one_contact
{
    private static readonly Guid Contact = Guid.Parse("9b1f6c1e-0000-4000-8000-000000000001");
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 8, 0);
    private long _sequence;

    private IEvent Stored<T>(T data) where T : notnull => new Event<T>(data) { Id = Guid.NewGuid(), Sequence = ++_sequence, StreamId = Contact };

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private IEvent Identify(Instant at, string traits) =>
        Stored(new ContactIdentified(Contact, Guid.NewGuid().ToString(), Json(traits), Json("{\"timezone\": \"Europe/Paris\"}"), at, at, "ana", null));

    private IEvent Track(Instant at, string name, string properties = "{}") =>
        Stored(new ContactTracked(Contact, Guid.NewGuid().ToString(), name, Json(properties), Json("{}"), at, at, "ana", null));

    private static PreviewPlan Plan(string rules, Instant horizon, Instant? to = null)
    {
        var document = RuleCompiler.Compile(rules).Document ?? throw new InvalidOperationException(string.Join("; ", RuleCompiler.Compile(rules).Diagnostics));
        var triggers = document.Triggers.ToDictionary(t => t.Name, t => new RuleVersionRef(t.Name, 0, "draft"));
        return new PreviewPlan(document, triggers, Start, to ?? Start + Duration.FromDays(1), horizon, DateTimeZone.Utc);
    }

    [Fact]
    public void the_contact_is_read_as_they_stood_at_each_instant()
    {
        var timeline = new ContactTimeline(Contact, [
            Identify(Start, """{"plan": "free"}"""),
            Track(Start + Duration.FromMinutes(10), "app_opened"),
            Identify(Start + Duration.FromHours(1), """{"plan": "vip", "email": "ana@example.com"}"""),
        ]);

        var early = timeline.AsOf(Start + Duration.FromMinutes(30));
        var late = timeline.AsOf(Start + Duration.FromHours(2));
        var again = timeline.AsOf(Start + Duration.FromMinutes(5));

        Assert.Equal("free", early.Snapshot.Traits["plan"]?.ToString());
        Assert.Single(early.Events);
        Assert.False(early.Reach.Addresses.ContainsKey(Channel.Email));
        Assert.Equal("vip", late.Snapshot.Traits["plan"]?.ToString());
        Assert.Equal("ana@example.com", late.Reach.Addresses[Channel.Email]);
        Assert.Equal("Europe/Paris", late.TimeZone?.Id);
        Assert.Empty(again.Events);
    }

    [Fact]
    public void a_message_due_after_the_preview_started_is_pending()
    {
        var plan = Plan("""
            trigger welcome
                on event "signed_up"
                wait 2d
                send inapp "welcome"
            """, horizon: Start + Duration.FromDays(1));
        var timeline = new ContactTimeline(Contact, [Identify(Start, "{}"), Track(Start + Duration.FromHours(1), "signed_up")]);

        var simulation = PreviewSimulation.Run(plan, timeline, [], []);

        var message = Assert.Single(simulation.Messages);
        Assert.Equal(PreviewOutcome.Pending, message.Outcome);
        Assert.Equal(Start + Duration.FromHours(49), message.DueAt);
    }

    [Fact]
    public void messages_of_other_rules_count_for_caps_and_the_drafts_own_past_messages_are_replaced()
    {
        var plan = Plan("""
            trigger promo
                on event "promo_viewed"
                send inapp "promo"

            policy frequency cap 1 per 1d
            """, horizon: Start + Duration.FromDays(2));
        var timeline = new ContactTimeline(Contact, [Identify(Start, "{}"), Track(Start + Duration.FromHours(2), "promo_viewed")]);

        // The live engine sent a promo at 09:00 under the published version: the draft replaces it, so it does not cap.
        var replaced = PreviewSimulation.Run(plan, timeline, [new ReceivedMessage(Guid.NewGuid(), "promo", false, Start + Duration.FromHours(1))], []);
        // Another rule's message at 09:00 was really received: it counts.
        var capped = PreviewSimulation.Run(plan, timeline, [new ReceivedMessage(Guid.NewGuid(), "other", false, Start + Duration.FromHours(1))], []);

        Assert.Equal(PreviewOutcome.Sent, Assert.Single(replaced.Messages).Outcome);
        var suppressed = Assert.Single(capped.Messages);
        Assert.Equal((PreviewOutcome.Suppressed, SuppressionReason.FrequencyCap), (suppressed.Outcome, suppressed.Reason));
    }

    [Fact]
    public void an_entry_beyond_at_most_is_suppressed_at_once_and_holds_follow_the_send_window()
    {
        var plan = Plan("""
            trigger promo
                on event "promo_viewed"
                send inapp "promo"
                send between 09:00 and 21:00 workspace
                at most 1 per 7d
            """, horizon: Start + Duration.FromDays(2));
        var timeline = new ContactTimeline(Contact, [
            Identify(Start - Duration.FromHours(2), "{}"),
            Track(Start - Duration.FromHours(1), "promo_viewed"),          // 07:00 UTC: held to 09:00 UTC
            Track(Start + Duration.FromHours(3), "promo_viewed"),          // 11:00: the first was received at 09:00
        ]);

        var simulation = PreviewSimulation.Run(plan with { From = Start - Duration.FromHours(4) }, timeline, [], []);

        Assert.Collection(simulation.Messages,
            first =>
            {
                Assert.Equal((PreviewOutcome.Sent, 1), (first.Outcome, first.Reschedules));
                Assert.Equal(Instant.FromUtc(2026, 12, 1, 9, 0), first.DecidedAt);
            },
            second =>
            {
                Assert.Equal((PreviewOutcome.Suppressed, SuppressionReason.ReEligibility), (second.Outcome, second.Reason));
                Assert.False(second.Scheduled);
            });
        Assert.Equal(2, simulation.Entries);
    }

    [Fact]
    public void webhooks_go_to_the_workspace_endpoint_as_live_and_without_one_have_no_address()
    {
        var plan = Plan("""
            trigger order_to_crm
                on event "order_completed"
                transactional
                send webhook "order-to-crm"
            """, horizon: Start + Duration.FromDays(1));
        var timeline = new ContactTimeline(Contact, [Identify(Start, "{}"), Track(Start + Duration.FromHours(1), "order_completed")]);

        var withEndpoint = PreviewSimulation.Run(plan with { WorkspaceWebhook = "https://crm.example/hooks" }, timeline, [], []);
        var without = PreviewSimulation.Run(plan, timeline, [], []);

        Assert.Equal(PreviewOutcome.Sent, Assert.Single(withEndpoint.Messages).Outcome);
        Assert.Equal(SuppressionReason.MissingAddress, Assert.Single(without.Messages).Reason);
    }

    [Fact]
    public void a_date_trigger_reaches_a_contact_who_carried_the_date_before_the_range_as_publishing_does()
    {
        var plan = Plan("""
            trigger vip_expiry_reminder
                on date traits.vip_expires_at minus 7d at 10:00 local
                send inapp "vip-expiry"
            """, horizon: Start + Duration.FromDays(30));
        var timeline = new ContactTimeline(Contact, [Identify(Start - Duration.FromDays(3), """{"vip_expires_at": "2026-12-15"}""")]);

        var simulation = PreviewSimulation.Run(plan, timeline, [], []);

        var reminder = Assert.Single(simulation.Messages);
        Assert.Equal((PreviewOutcome.Sent, Instant.FromUtc(2026, 12, 8, 9, 0)), (reminder.Outcome, reminder.DecidedAt));
    }
}
