using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using NodaTime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;
using static EventSourcedJourneys.Domain.Tests.Scenario;

namespace EventSourcedJourneys.Domain.Tests;

public sealed class when_a_message_falls_due
{
    // 14:30 in Paris (UTC+1 in December): inside 09:00–21:00.
    private static readonly Instant Entry = Instant.FromUtc(2026, 12, 3, 13, 0);
    private static readonly Instant Due = Entry + Duration.FromMinutes(30);
    private static readonly ContactEvent RecentOrder = Event("order_completed", Entry - Duration.FromDays(10));
    private static readonly ContactEvent Cart = Event("cart_updated", Entry, """{"total": 150}""");

    private static PendingMessage Pending(string trigger = "abandoned_cart_over_100", Channel channel = Channel.Email, bool transactional = false) =>
        new(new MessageScheduled(Contact, Guid.NewGuid(), channel, "cart-reminder", Entry, Due, Rule(trigger), transactional, Entry, Cart.Ref), Entry);

    /// <summary><paramref name="decidedUnder"/>: the version live at due time, by default the one that scheduled the message.</summary>
    private static DueOutcome Decide(PendingMessage pending, ContactEvent[] events, Instant? now = null, DeliveryHistory? history = null,
        ContactReachability? reach = null, CompiledTrigger? trigger = null, bool live = true, RuleVersionRef? decidedUnder = null) =>
        DueDecisions.OnDue(pending, live ? trigger ?? Compiled.FindTrigger(pending.Scheduled.Rule!.Name) : null,
            live ? decidedUnder ?? pending.Scheduled.Rule : null, Compiled.Policies,
            ContactWith(events), events, history ?? DeliveryHistory.Empty, reach ?? Reachable(Channel.Email, Channel.Sms), Paris,
            DateTimeZone.Utc, "acme", now ?? Due);

    [Fact]
    public void with_nothing_in_the_way_it_is_cleared_to_the_contacts_address()
    {
        var cleared = Assert.IsType<ClearedToSend>(Decide(Pending(), [RecentOrder]));
        Assert.Equal("ana@example.com", cleared.Address);
    }

    [Fact]
    public void an_order_at_minute_29_cancels_it_naming_the_order()
    {
        var order = Event("order_completed", Entry + Duration.FromMinutes(29));

        var outcome = Assert.IsType<NotSentNow>(Decide(Pending(), [RecentOrder, order]));

        Assert.Equal(order.Ref, Assert.IsType<MessageCancelled>(Assert.Single(outcome.Events)).CancellingEvent);
    }

    [Fact]
    public void a_contact_outside_the_audience_is_suppressed()
    {
        var outcome = Assert.IsType<NotSentNow>(Decide(Pending(), []));
        Assert.Equal(SuppressionReason.Audience, Assert.IsType<MessageSuppressed>(Assert.Single(outcome.Events)).Reason);
    }

    [Fact]
    public void at_23_00_in_the_contacts_zone_it_is_held_to_09_00_there()
    {
        var lateEvening = Instant.FromUtc(2026, 12, 3, 22, 0); // 23:00 in Paris

        var outcome = Assert.IsType<NotSentNow>(Decide(Pending(), [RecentOrder], now: lateEvening));

        var rescheduled = outcome.Rescheduled!;
        Assert.Equal(Instant.FromUtc(2026, 12, 4, 8, 0), rescheduled.To); // 09:00 in Paris
        Assert.Equal("Europe/Paris", rescheduled.Zone);
    }

    [Fact]
    public void the_next_opening_is_daylight_saving_correct()
    {
        // 22:30 UTC on 28 March 2027 is 00:30 on the 29th in Paris, after the switch to summer time (UTC+2).
        var outcome = Assert.IsType<NotSentNow>(Decide(Pending("welcome"), [], now: Instant.FromUtc(2027, 3, 28, 22, 30)));
        Assert.Equal(Instant.FromUtc(2027, 3, 29, 7, 0), outcome.Rescheduled!.To);
    }

    [Fact]
    public void a_fourth_marketing_message_in_a_day_is_suppressed_but_a_transactional_one_goes()
    {
        var threeToday = new DeliveryHistory(
            Enumerable.Range(1, 3).Select(h => new ReceivedMessage(Guid.NewGuid(), "welcome", false, Due - Duration.FromHours(h))).ToList(), []);

        var capped = Assert.IsType<NotSentNow>(Decide(Pending(), [RecentOrder], history: threeToday));
        var suppressed = Assert.IsType<MessageSuppressed>(Assert.Single(capped.Events));
        Assert.Equal(SuppressionReason.FrequencyCap, suppressed.Reason);
        Assert.Equal("3 per 1d", suppressed.Facts["cap"]);
        Assert.Equal("3", suppressed.Facts["received"]);

        var shipped = Pending("order_shipped", Channel.Sms, transactional: true);
        Assert.IsType<ClearedToSend>(Decide(shipped, [], history: threeToday));
        // and quiet hours do not hold it either
        Assert.IsType<ClearedToSend>(Decide(shipped, [], now: Instant.FromUtc(2026, 12, 3, 23, 30), history: threeToday));
    }

    [Fact]
    public void without_an_address_or_consent_it_is_suppressed()
    {
        var noEmail = Assert.IsType<NotSentNow>(Decide(Pending(), [RecentOrder], reach: Reachable(Channel.Sms)));
        Assert.Equal(SuppressionReason.MissingAddress, Assert.IsType<MessageSuppressed>(noEmail.Events[0]).Reason);

        var unsubscribed = new ContactReachability(Reachable(Channel.Email).Addresses, new HashSet<Channel> { Channel.Email });
        var noConsent = Assert.IsType<NotSentNow>(Decide(Pending(), [RecentOrder], reach: unsubscribed));
        Assert.Equal(SuppressionReason.Consent, Assert.IsType<MessageSuppressed>(noConsent.Events[0]).Reason);
    }

    [Fact]
    public void a_trigger_paused_meanwhile_sends_nothing()
    {
        var outcome = Assert.IsType<NotSentNow>(Decide(Pending(), [RecentOrder], live: false));
        Assert.Equal(SuppressionReason.RuleNotLive, Assert.IsType<MessageSuppressed>(outcome.Events[0]).Reason);
    }

    [Fact]
    public void a_message_without_a_window_of_its_own_follows_quiet_hours()
    {
        var welcome = Pending("welcome");
        var outcome = Assert.IsType<NotSentNow>(Decide(welcome, [], now: Instant.FromUtc(2026, 12, 3, 5, 0))); // 06:00 in Paris
        Assert.Equal(Instant.FromUtc(2026, 12, 3, 8, 0), outcome.Rescheduled!.To);
    }

    [Fact]
    public void every_decision_names_the_version_live_then_and_the_event_that_started_the_message()
    {
        // Republished during the wait: version 2 is live at due time, version 1 scheduled the message.
        var republished = new RuleVersionRef("abandoned_cart_over_100", 2, new string('b', 64));
        var order = Event("order_completed", Entry + Duration.FromMinutes(29));
        var sent = new DeliveryHistory(
            Enumerable.Range(1, 3).Select(i => new ReceivedMessage(Guid.NewGuid(), "welcome", false, Due - Duration.FromHours(i))).ToList(), []);
        var decisions = new IDecisionRecord[]
        {
            Decided<MessageCancelled>(Decide(Pending(), [RecentOrder, order], decidedUnder: republished)),
            Decided<MessageSuppressed>(Decide(Pending(), [], decidedUnder: republished)),
            Decided<MessageRescheduled>(Decide(Pending(), [RecentOrder], now: Instant.FromUtc(2026, 12, 3, 22, 0), decidedUnder: republished)),
            Decided<MessageSuppressed>(Decide(Pending(), [RecentOrder], history: sent, decidedUnder: republished)),
            Decided<MessageSuppressed>(Decide(Pending(), [RecentOrder], reach: Reachable(Channel.Sms), decidedUnder: republished)),
        };

        Assert.All(decisions, d =>
        {
            Assert.Equal(republished, d.DecidedUnder);
            Assert.Equal(Cart.Ref, d.TriggeringEvent);
        });
        Assert.Equal([SuppressionReason.Audience, SuppressionReason.FrequencyCap, SuppressionReason.MissingAddress],
            decisions.OfType<MessageSuppressed>().Select(s => s.Reason));
    }

    [Fact]
    public void a_trigger_no_longer_live_names_no_version_but_still_the_triggering_event()
    {
        var suppressed = Decided<MessageSuppressed>(Decide(Pending(), [RecentOrder], live: false));
        Assert.Null(suppressed.DecidedUnder);
        Assert.Equal(Cart.Ref, suppressed.TriggeringEvent);
    }

    private static T Decided<T>(DueOutcome outcome) where T : IDecisionRecord =>
        Assert.IsType<T>(Assert.Single(Assert.IsType<NotSentNow>(outcome).Events));
}
