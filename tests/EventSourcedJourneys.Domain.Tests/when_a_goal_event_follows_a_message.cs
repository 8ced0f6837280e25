using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Dsl;
using NodaTime;
using static EventSourcedJourneys.Domain.Tests.Scenario;

namespace EventSourcedJourneys.Domain.Tests;

public sealed class when_a_goal_event_follows_a_message
{
    private static readonly Dsl.Compilation.CompiledDocument Rules = RuleCompiler.Compile("""
        trigger cart
            on event "cart_updated"
            send email "cart-reminder"
            goal event "order_completed" where properties.total > 0 within 3d
        """).Document!;

    private static readonly Instant SentAt = Instant.FromUtc(2026, 12, 3, 10, 0);

    private static IReadOnlyList<Messages.ConversionAttributed> Decide(ContactEvent order, bool converted = false) =>
        GoalDecisions.OnEvent(Contact, order, ContactWith(order),
            [new GoalCandidate(Guid.Parse("0195a6c1-0000-7000-8000-0000000000cc"), Rule("cart"), SentAt, converted)],
            name => Rules.FindTrigger(name)?.Goal, SentAt + Duration.FromDays(4)).Cast<Messages.ConversionAttributed>().ToList();

    [Fact]
    public void an_order_within_3_days_is_credited_to_the_message()
    {
        var order = Event("order_completed", SentAt + Duration.FromDays(2), """{"total": 80}""");
        var conversion = Assert.Single(Decide(order));
        Assert.Equal(order.Ref, conversion.ConversionEvent);
        Assert.Equal("cart", conversion.Rule.Name);
    }

    [Fact]
    public void an_order_after_the_window_or_before_the_send_is_not() 
    {
        Assert.Empty(Decide(Event("order_completed", SentAt + Duration.FromDays(3) + Duration.FromSeconds(1), """{"total": 80}""")));
        Assert.Empty(Decide(Event("order_completed", SentAt - Duration.FromMinutes(1), """{"total": 80}""")));
    }

    [Fact]
    public void the_goal_filter_applies_and_a_message_converts_once()
    {
        Assert.Empty(Decide(Event("order_completed", SentAt + Duration.FromDays(1), """{"total": 0}""")));
        Assert.Empty(Decide(Event("order_completed", SentAt + Duration.FromDays(1), """{"total": 80}"""), converted: true));
    }
}
