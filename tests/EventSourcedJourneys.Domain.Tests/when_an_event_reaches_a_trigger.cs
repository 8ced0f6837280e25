using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using NodaTime;
using static EventSourcedJourneys.Domain.Tests.Scenario;

namespace EventSourcedJourneys.Domain.Tests;

public sealed class when_an_event_reaches_a_trigger
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 3, 14, 0);
    private static readonly Guid Message = Guid.Parse("0195a6c1-0000-7000-8000-0000000000bb");

    private static IReadOnlyList<IMessageEvent> Decide(ContactEvent candidate, DeliveryHistory? history = null, Instant? publishedAt = null,
        string trigger = "abandoned_cart_over_100") =>
        TriggerDecisions.OnEvent(Compiled.FindTrigger(trigger)!, Rule(trigger), publishedAt ?? PublishedAt, Contact, candidate,
            ContactWith(candidate), history ?? DeliveryHistory.Empty, Paris, Message, Now);

    [Fact]
    public void a_cart_over_100_is_matched_and_scheduled_30_minutes_after_the_event()
    {
        var cart = Event("cart_updated", Now - Duration.FromMinutes(1), """{"total": 150}""");

        var decided = Decide(cart);

        var matched = Assert.IsType<TriggerMatched>(decided[0]);
        Assert.Equal(cart.Ref, matched.TriggeringEvent);
        Assert.Equal("150", matched.Facts["properties.total"]);
        var scheduled = Assert.IsType<MessageScheduled>(decided[1]);
        Assert.Equal(cart.Event.Timestamp + Duration.FromMinutes(30), scheduled.DueAt);
        Assert.Equal(Channel.Email, scheduled.Channel);
        Assert.Equal("cart-reminder", scheduled.Template);
        Assert.Equal(cart.Event.Timestamp, scheduled.EntryAt);
    }

    [Fact]
    public void a_cart_of_90_is_not_matched() =>
        Assert.Empty(Decide(Event("cart_updated", Now, """{"total": 90}""")));

    [Fact]
    public void an_event_from_before_the_trigger_was_published_never_qualifies() =>
        Assert.Empty(Decide(Event("cart_updated", PublishedAt - Duration.FromSeconds(1), """{"total": 150}""")));

    [Fact]
    public void an_event_that_arrives_late_is_due_at_once_not_after_a_second_wait()
    {
        var late = Event("cart_updated", Now - Duration.FromHours(2), """{"total": 150}""");
        Assert.Equal(Now, Assert.IsType<MessageScheduled>(Decide(late)[1]).DueAt);
    }

    [Fact]
    public void two_matching_events_in_the_same_second_enter_once()
    {
        var first = Event("cart_updated", Instant.FromUtc(2026, 12, 3, 13, 59, 30), """{"total": 150}""");
        var second = Event("cart_updated", first.Event.Timestamp + Duration.FromMilliseconds(400), """{"total": 180}""");

        var history = new DeliveryHistory([], [new TriggerEntry("abandoned_cart_over_100", first.Event.Timestamp)]);

        Assert.Empty(Decide(second, history));
    }

    [Fact]
    public void at_most_1_per_7d_counts_messages_received_from_the_trigger()
    {
        var cart = Event("cart_updated", Now, """{"total": 150}""");
        var received = new DeliveryHistory([new ReceivedMessage(Guid.NewGuid(), "abandoned_cart_over_100", false, Now - Duration.FromDays(3))], []);

        var decided = Decide(cart, received);

        Assert.IsType<TriggerMatched>(decided[0]);
        var suppressed = Assert.IsType<MessageSuppressed>(decided[1]);
        Assert.Equal(SuppressionReason.ReEligibility, suppressed.Reason);
        Assert.Equal("1 per 7d", suppressed.Facts["cap"]);
        Assert.Equal((Rule("abandoned_cart_over_100"), cart.Ref), (suppressed.DecidedUnder, suppressed.TriggeringEvent));

        var longAgo = new DeliveryHistory([new ReceivedMessage(Guid.NewGuid(), "abandoned_cart_over_100", false, Now - Duration.FromDays(8))], []);
        Assert.IsType<MessageScheduled>(Decide(cart, longAgo)[1]);
        var entriesOnly = new DeliveryHistory([], [new TriggerEntry("abandoned_cart_over_100", Now - Duration.FromDays(1))]);
        Assert.IsType<MessageScheduled>(Decide(cart, entriesOnly)[1]);
    }
}
