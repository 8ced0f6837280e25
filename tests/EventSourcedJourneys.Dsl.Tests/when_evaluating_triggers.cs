using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_evaluating_triggers
{
    static CompiledDocument Compile(string text)
    {
        var result = RuleCompiler.Compile(text);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Document!;
    }

    [Fact]
    public void a_trigger_on_several_events_is_indexed_under_each_of_them()
    {
        var document = Compile("trigger t on event \"cart_created\", \"cart_updated\" send email \"x\"");

        Assert.Equal(
            (1, 1, 0),
            (document.TriggersOnEvent("cart_created").Count, document.TriggersOnEvent("cart_updated").Count, document.TriggersOnEvent("cart").Count));
    }

    [Fact]
    public void context_in_a_trigger_filter_reads_the_triggering_event_not_the_latest_context()
    {
        var trigger = Compile("trigger t on event \"opened\" where context.os.name = \"iOS\" send push \"x\"").Triggers[0];
        var contact = Contact().WithContext(Value.Object(("os", Value.Object(("name", Value.Of("iOS"))))));
        var fromAndroid = new RecordedEvent("opened", Now, ObjectValue.Empty, Value.Object(("os", Value.Object(("name", Value.Of("Android"))))));
        var fromIos = fromAndroid with { Context = Value.Object(("os", Value.Object(("name", Value.Of("iOS"))))) };

        Assert.Equal((false, true), (trigger.MatchesEvent(fromAndroid, contact, Now), trigger.MatchesEvent(fromIos, contact, Now)));
    }

    [Fact]
    public void a_trigger_filter_may_also_test_the_contacts_traits()
    {
        var trigger = Compile("trigger t on event \"a\" where traits.plan = \"paid\" send push \"x\"").Triggers[0];
        var e = Event("a", Duration.Zero);

        Assert.Equal(
            (true, false),
            (trigger.MatchesEvent(e, Contact().WithTraits(("plan", Value.Of("paid"))), Now), trigger.MatchesEvent(e, Contact(), Now)));
    }

    [Fact]
    public void since_entry_in_the_audience_counts_only_what_happened_after_the_trigger_started()
    {
        var audience = Compile("""
            trigger t
                on event "trial_started"
                wait 3d
                audience not event "unsubscribed" since entry
                send email "trial-tips"
            """).Triggers[0].Audience!;
        var entry = Now - Days(3);

        Assert.True(audience.Includes(Contact(Event("unsubscribed", Days(4))), Now, entry));
        Assert.False(audience.Includes(Contact(Event("unsubscribed", Days(1))), Now, entry));
    }

    [Fact]
    public void any_of_several_exception_events_cancels_the_message()
    {
        var trigger = Compile("""
            trigger t
                on event "cart_updated"
                cancel if event "order_completed"
                cancel if event "cart_emptied"
                send email "x"
            """).Triggers[0];
        var entry = Now - Days(1);

        Assert.Equal(
            (true, true, false),
            (trigger.IsCancelledBy(Event("order_completed", Duration.Zero), Contact(), Now, entry),
             trigger.IsCancelledBy(Event("cart_emptied", Duration.Zero), Contact(), Now, entry),
             trigger.IsCancelledBy(Event("cart_updated", Duration.Zero), Contact(), Now, entry)));
    }

    [Fact]
    public void a_goal_with_a_filter_counts_only_matching_conversions()
    {
        var goal = Compile("trigger t on event \"a\" send email \"x\" goal event \"order_completed\" where properties.total >= 20 within 3d").Triggers[0].Goal!;

        Assert.Equal(Duration.FromDays(3), goal.Within);
        Assert.True(goal.Event.Matches(Event("order_completed", Duration.Zero, ("total", Value.Of(25))), Contact(), Now));
        Assert.False(goal.Event.Matches(Event("order_completed", Duration.Zero, ("total", Value.Of(5))), Contact(), Now));
    }

    [Fact]
    public void a_goal_reads_its_revenue_from_the_named_property_of_the_goal_event()
    {
        var goal = Compile("trigger t on event \"a\" send email \"x\" goal event \"order_completed\" within 3d revenue properties.order.total").Triggers[0].Goal!;

        Assert.Equal(["order", "total"], goal.RevenuePath);
        Assert.Equal(120.5m, goal.RevenueOf(Event("order_completed", Duration.Zero, ("order", Value.Object(("total", Value.Of(120.5m)))))));
        Assert.Equal(7m, goal.RevenueOf(Event("order_completed", Duration.Zero, ("order", Value.Object(("total", Value.Of("7")))))));
        Assert.Null(goal.RevenueOf(Event("order_completed", Duration.Zero, ("order", Value.Object(("total", Value.Of("seven")))))));
        Assert.Null(goal.RevenueOf(Event("order_completed", Duration.Zero)));
    }

    [Fact]
    public void a_goal_without_a_revenue_line_has_no_revenue()
    {
        var goal = Compile("trigger t on event \"a\" send email \"x\" goal event \"order_completed\" within 3d").Triggers[0].Goal!;

        Assert.Null(goal.RevenuePath);
        Assert.Null(goal.RevenueOf(Event("order_completed", Duration.Zero, ("total", Value.Of(10)))));
    }

    [Fact]
    public void campaign_dates_are_read_in_the_workspace_time_zone_and_include_the_last_day()
    {
        var active = Compile("trigger t on event \"a\" send sms \"x\" active from 2026-12-01 to 2027-01-01").Triggers[0].Active!;
        var tokyo = DateTimeZoneProviders.Tzdb["Asia/Tokyo"];

        Assert.Equal(
            (false, true, true, false),
            (active.IsActiveAt(Instant.FromUtc(2026, 11, 30, 14, 59), tokyo),
             active.IsActiveAt(Instant.FromUtc(2026, 11, 30, 15, 0), tokyo),
             active.IsActiveAt(Instant.FromUtc(2027, 1, 1, 14, 59), tokyo),
             active.IsActiveAt(Instant.FromUtc(2027, 1, 1, 15, 0), tokyo)));
    }

    [Fact]
    public void a_funnel_compiles_to_its_steps_and_window()
    {
        var funnel = Assert.Single(Compile("funnel checkout = event \"cart_viewed\" -> event \"order_completed\" where properties.total > 0 within 7d").Funnels);

        Assert.Equal(("checkout", 1, Duration.FromDays(7)), (funnel.Name, funnel.Line, funnel.Within));
        Assert.Equal(["cart_viewed", "order_completed"], funnel.Steps.Select(s => s.EventName));
        Assert.Equal([false, true], funnel.Steps.Select(s => s.HasFilter));
    }

    [Fact]
    public void a_trigger_without_its_own_window_or_cap_leaves_them_to_the_workspace_policies()
    {
        var document = Compile("trigger t on event \"a\" send sms \"x\"");
        var trigger = document.Triggers[0];

        Assert.Equal((Duration.Zero, (SendWindow?)null, (FrequencyCap?)null, false), (trigger.Wait, trigger.SendWindow, trigger.AtMost, trigger.IsTransactional));
        Assert.Empty(document.Policies.FrequencyCaps);
        Assert.Null(document.Policies.QuietHours);
        Assert.Null(document.Policies.DefaultSendWindow);
    }
}
