using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using static EventSourcedJourneys.Domain.Tests.Scenario;

namespace EventSourcedJourneys.Domain.Tests;

public sealed class when_a_date_trait_is_set
{
    private static readonly Dsl.Compilation.CompiledDocument Rules = RuleCompiler.Compile("""
        trigger vip_expiry_reminder
            on date traits.vip_expires_at minus 30d, 15d, 7d at 10:00 local
            cancel if event "vip_renewed"
            send sms "vip-expiry"
        """).Document!;

    private static readonly Dsl.Compilation.CompiledTrigger Trigger = Rules.FindTrigger("vip_expiry_reminder")!;
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 1, 12, 0);

    private static ContactSnapshot WithExpiry(string date) =>
        new(Value.ObjectFromJson(System.Text.Json.JsonDocument.Parse($$"""{"vip_expires_at": "{{date}}"}""").RootElement), ObjectValue.Empty, []);

    [Fact]
    public void reminders_are_scheduled_30_15_and_7_days_before_at_10_local()
    {
        var decided = DateTriggerDecisions.OnTraitsChanged(Trigger, Rule("vip_expiry_reminder"), Contact, Event("identify", Now),
            WithExpiry("2027-02-15"), Paris, _ => false, Now);

        var due = decided.OfType<MessageScheduled>().Select(m => m.DueAt).ToList();
        Assert.Equal([Instant.FromUtc(2027, 1, 16, 9, 0), Instant.FromUtc(2027, 1, 31, 9, 0), Instant.FromUtc(2027, 2, 8, 9, 0)], due);
        Assert.Equal(3, decided.OfType<TriggerMatched>().Count());
        Assert.All(decided.OfType<MessageScheduled>(), m => Assert.Equal(Channel.Sms, m.Channel));
    }

    [Fact]
    public void reminders_in_the_past_or_already_scheduled_are_not_scheduled_again()
    {
        var rule = Rule("vip_expiry_reminder");
        var alreadyFirst = DateTriggerDecisions.MessageIdFor(rule, Contact, Instant.FromUtc(2026, 12, 18, 9, 0));

        var decided = DateTriggerDecisions.OnTraitsChanged(Trigger, rule, Contact, Event("identify", Now),
            WithExpiry("2026-12-25"), Paris, id => id == alreadyFirst, Now);

        // 30 days before is 25 Nov (past), 15 days before is 10 Dec, 7 days before is 18 Dec (already scheduled).
        Assert.Equal([Instant.FromUtc(2026, 12, 10, 9, 0)], decided.OfType<MessageScheduled>().Select(m => m.DueAt));
    }

    [Fact]
    public void a_reminder_whose_date_moved_is_no_longer_due() =>
        Assert.False(DateTriggerDecisions.StillDue(Trigger, WithExpiry("2027-03-15"), Paris, Instant.FromUtc(2027, 1, 16, 9, 0)));
}
