using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Dsl.Tests.Examples;
using NodaTime;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_evaluating_the_issue_examples
{
    static readonly CompiledDocument Rules = CompileExamples();

    static CompiledDocument CompileExamples()
    {
        var result = RuleCompiler.Compile(ExampleFiles.IssueExamples);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Document!;
    }

    static bool In(string segment, ContactSnapshot contact) => Rules.FindSegment(segment)!.Contains(contact, Now);

    static ContactSnapshot UrbanWoman(int age = 40) =>
        Contact(Event("order_completed", Days(3)))
            .WithTraits(("gender", Value.Of("female")), ("age", Value.Of(age)), ("city_tier", Value.Of("urban")))
            .WithContext(Value.Object(("os", Value.Object(("name", Value.Of("iOS"))))));

    [Fact]
    public void the_examples_list_every_rule_with_its_kind_and_line()
    {
        var result = RuleCompiler.Compile(ExampleFiles.IssueExamples);

        Assert.Equal(
            [
                new RuleSummary("active_buyers", RuleKind.Segment, 2),
                new RuleSummary("urban_women_35_45", RuleKind.Segment, 5),
                new RuleSummary("lapsed_subscribers", RuleKind.Segment, 12),
                new RuleSummary("big_spenders", RuleKind.Segment, 17),
                new RuleSummary("abandoned_cart_over_100", RuleKind.Trigger, 21),
                new RuleSummary("browsed_wealth_no_purchase", RuleKind.Trigger, 33),
                new RuleSummary("vip_expiry_reminder", RuleKind.Trigger, 40),
                new RuleSummary("order_shipped", RuleKind.Trigger, 46),
                new RuleSummary("frequency cap", RuleKind.Policy, 52),
                new RuleSummary("quiet hours", RuleKind.Policy, 53),
            ],
            result.Rules);
    }

    [Fact]
    public void an_active_buyer_ordered_within_the_last_45_days() =>
        Assert.Equal(
            (true, true, false, false),
            (In("active_buyers", Contact(Event("order_completed", Days(44)))),
             In("active_buyers", Contact(Event("order_completed", Days(45)))),
             In("active_buyers", Contact(Event("order_completed", Days(46)))),
             In("active_buyers", Contact(Event("order_completed", Days(-1))))));

    [Fact]
    public void urban_women_35_45_needs_every_trait_the_os_and_a_recent_order()
    {
        Assert.True(In("urban_women_35_45", UrbanWoman()));
        Assert.False(In("urban_women_35_45", UrbanWoman().WithContext(Value.Object(("os", Value.Object(("name", Value.Of("Windows"))))))));
        var withoutOrders = new ContactSnapshot(UrbanWoman().Traits, UrbanWoman().LatestContext, []);
        Assert.False(In("urban_women_35_45", withoutOrders));
    }

    [Fact]
    public void between_includes_both_ends() =>
        Assert.Equal(
            (false, true, true, false),
            (In("urban_women_35_45", UrbanWoman(34)), In("urban_women_35_45", UrbanWoman(35)),
             In("urban_women_35_45", UrbanWoman(45)), In("urban_women_35_45", UrbanWoman(46))));

    [Fact]
    public void a_number_sent_as_text_still_compares_as_a_number() =>
        Assert.True(In("urban_women_35_45", UrbanWoman().WithTraits(
            ("gender", Value.Of("female")), ("age", Value.Of("38")), ("city_tier", Value.Of("urban")))));

    [Fact]
    public void a_missing_trait_is_neither_equal_nor_unequal_to_anything()
    {
        var document = RuleCompiler.Compile("""
            segment unequal = traits.plan != "paid"
            segment absent = not traits.plan exists
            segment absent_too = traits.plan not exists
            """).Document!;
        var nobody = Contact();
        var explicitNull = Contact().WithTraits(("plan", Value.Null));

        Assert.Equal(
            (false, true, true, false, true),
            (document.FindSegment("unequal")!.Contains(nobody, Now),
             document.FindSegment("absent")!.Contains(nobody, Now),
             document.FindSegment("absent_too")!.Contains(nobody, Now),
             document.FindSegment("unequal")!.Contains(explicitNull, Now),
             document.FindSegment("absent")!.Contains(explicitNull, Now)));
    }

    [Fact]
    public void a_lapsed_subscriber_opened_the_app_once_but_not_in_the_last_30_days()
    {
        var paid = ("plan", Value.Of("paid"));

        Assert.True(In("lapsed_subscribers", Contact(Event("app_opened", Days(40))).WithTraits(paid)));
        Assert.False(In("lapsed_subscribers", Contact(Event("app_opened", Days(40)), Event("app_opened", Days(10))).WithTraits(paid)));
        Assert.False(In("lapsed_subscribers", Contact().WithTraits(paid)));
        Assert.False(In("lapsed_subscribers", Contact(Event("app_opened", Days(40))).WithTraits(("plan", Value.Of("free")))));
    }

    [Fact]
    public void a_big_spender_spent_500_in_orders_within_90_days()
    {
        static RecordedEvent Order(decimal total, int daysAgo) => Event("order_completed", Days(daysAgo), ("total", Value.Of(total)));

        Assert.True(In("big_spenders", Contact(Order(300, 10), Order(200, 89))));
        Assert.False(In("big_spenders", Contact(Order(300, 10), Order(200, 91))));
        Assert.False(In("big_spenders", Contact(Order(300, 10), Event("order_completed", Days(5)))));
    }

    [Fact]
    public void the_abandoned_cart_trigger_starts_on_carts_over_100()
    {
        var trigger = Rules.FindTrigger("abandoned_cart_over_100")!;
        var contact = Contact();

        Assert.Equal(["cart_updated"], trigger.EventNames);
        Assert.Equal(
            (true, false, false, false),
            (trigger.MatchesEvent(Event("cart_updated", Duration.Zero, ("total", Value.Of(100.01m))), contact, Now),
             trigger.MatchesEvent(Event("cart_updated", Duration.Zero, ("total", Value.Of(100))), contact, Now),
             trigger.MatchesEvent(Event("cart_updated", Duration.Zero), contact, Now),
             trigger.MatchesEvent(Event("cart_viewed", Duration.Zero, ("total", Value.Of(500))), contact, Now)));
    }

    [Fact]
    public void the_abandoned_cart_trigger_carries_everything_the_delivery_engine_needs()
    {
        var trigger = Rules.FindTrigger("abandoned_cart_over_100")!;

        Assert.Equal(Duration.FromMinutes(30), trigger.Wait);
        Assert.Equal("order_completed", Assert.Single(trigger.CancelIf).EventName);
        Assert.Equal(["active_buyers"], trigger.Audience!.Segments);
        Assert.Equal(new MessageTemplate(Channel.Email, "cart-reminder"), trigger.Message);
        Assert.Equal(new SendWindow(new LocalTime(9, 0), new LocalTime(21, 0), ZoneReference.Local), trigger.SendWindow);
        Assert.Equal(new FrequencyCap(1, Duration.FromDays(7)), trigger.AtMost);
        Assert.Equal(new ActivePeriod(new LocalDate(2026, 12, 1), new LocalDate(2027, 1, 1)), trigger.Active);
        Assert.Equal(("order_completed", Duration.FromDays(3)), (trigger.Goal!.Event.EventName, trigger.Goal.Within));
        Assert.False(trigger.IsTransactional);
        Assert.Null(trigger.OnDate);
    }

    [Fact]
    public void the_audience_is_checked_against_the_contact_when_the_message_goes_out()
    {
        var audience = Rules.FindTrigger("abandoned_cart_over_100")!.Audience!;

        Assert.True(audience.Includes(Contact(Event("order_completed", Days(10))), Now, Now - Duration.FromMinutes(30)));
        Assert.False(audience.Includes(Contact(), Now, Now - Duration.FromMinutes(30)));
    }

    [Fact]
    public void the_wealth_trigger_is_cancelled_only_by_a_wealth_purchase()
    {
        var trigger = Rules.FindTrigger("browsed_wealth_no_purchase")!;
        var entry = Now - Duration.FromHours(1);
        static RecordedEvent Purchase(string category) =>
            Event("product_purchased", Duration.Zero, ("category", Value.Of(category)));

        Assert.True(trigger.IsCancelledBy(Purchase("wealth-management"), Contact(), Now, entry));
        Assert.False(trigger.IsCancelledBy(Purchase("insurance"), Contact(), Now, entry));
        Assert.Equal(new MessageTemplate(Channel.Push, "wealth-red-packet"), trigger.Message);
        Assert.Equal(Duration.FromHours(2), trigger.Wait);
    }

    [Fact]
    public void the_vip_reminder_is_due_30_15_and_7_days_before_expiry_at_10_in_the_contacts_zone()
    {
        var trigger = Rules.FindTrigger("vip_expiry_reminder")!;
        var shanghai = DateTimeZoneProviders.Tzdb["Asia/Shanghai"];
        var contact = Contact().WithTraits(("vip_expires_at", Value.Of("2027-03-31")));

        Assert.Empty(trigger.EventNames);
        Assert.Equal([trigger], Rules.DateTriggers);
        Assert.Equal(
            [
                new LocalDateTime(2027, 3, 1, 10, 0),
                new LocalDateTime(2027, 3, 16, 10, 0),
                new LocalDateTime(2027, 3, 24, 10, 0),
            ],
            trigger.OnDate!.OccurrencesFor(contact, shanghai).Select(i => i.InZone(shanghai).LocalDateTime));
        Assert.Empty(trigger.OnDate.OccurrencesFor(Contact(), shanghai));
    }

    [Fact]
    public void the_shipping_update_is_transactional_and_found_by_its_event_name()
    {
        var trigger = Assert.Single(Rules.TriggersOnEvent("order_shipped"));

        Assert.True(trigger.IsTransactional);
        Assert.Equal(new MessageTemplate(Channel.Sms, "shipping-update"), trigger.Message);
        Assert.Empty(Rules.TriggersOnEvent("nothing_listens_to_this"));
    }

    [Fact]
    public void the_workspace_policies_cap_frequency_and_set_quiet_hours()
    {
        Assert.Equal([new FrequencyCap(3, Duration.FromDays(1)), new FrequencyCap(10, Duration.FromDays(7))], Rules.Policies.FrequencyCaps);
        Assert.Equal(new QuietHours(new LocalTime(21, 0), new LocalTime(9, 0), ZoneReference.Local), Rules.Policies.QuietHours);
        Assert.Equal(new SendWindow(new LocalTime(9, 0), new LocalTime(21, 0), ZoneReference.Local), Rules.Policies.DefaultSendWindow);
    }
}
