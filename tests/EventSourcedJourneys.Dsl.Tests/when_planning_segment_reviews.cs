using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>What a segment reads, and when its answer can next change with no new event (ADR 0009).</summary>
public class when_planning_segment_reviews
{
    static CompiledSegment Segment(string document, string name = "s")
    {
        var result = RuleCompiler.Compile(document);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Document!.FindSegment(name)!;
    }

    [Fact]
    public void an_order_leaves_a_45_day_window_just_after_45_days()
    {
        var segment = Segment("segment s = count(event \"order_completed\" in last 45d) >= 1");
        var contact = Contact(Event("order_completed", Days(10)), Event("order_completed", Days(3)));

        var next = segment.Reads.NextChange(contact, Now);

        Assert.Equal(Now - Days(10) + Days(45) + Duration.Epsilon, next);
        Assert.True(segment.Contains(contact, next!.Value - Duration.Epsilon));
        // The earlier order is out, the later one still holds the contact in: early, never late.
        Assert.True(segment.Contains(contact, next.Value));
        Assert.False(segment.Contains(contact, Now - Days(3) + Days(45) + Duration.Epsilon));
    }

    [Fact]
    public void events_outside_every_window_and_ever_windows_plan_nothing()
    {
        var segment = Segment("segment s = count(event \"order_completed\" in last 45d) >= 1 or event \"signed_up\" ever");
        Assert.Null(segment.Reads.NextChange(Contact(Event("order_completed", Days(60)), Event("signed_up", Days(1))), Now));
    }

    [Fact]
    public void an_event_with_a_future_time_comes_into_view_at_its_time()
    {
        var segment = Segment("segment s = event \"signed_up\" ever");
        Assert.Equal(Now + Days(2), segment.Reads.NextChange(Contact(Event("signed_up", -Days(2))), Now));
    }

    [Fact]
    public void a_trait_date_compared_with_ago_crosses_the_line_then()
    {
        var segment = Segment("segment s = traits.signed_up_at < 30d ago");
        var contact = Contact().WithTraits(("signed_up_at", Value.Of((Now - Days(10)).ToString())));
        Assert.Equal(Now + Days(20), segment.Reads.NextChange(contact, Now));
    }

    [Fact]
    public void reads_follow_referenced_segments()
    {
        var segment = Segment("""
            segment buyers = count(event "order_completed" in last 45d) >= 1
            segment s = segment buyers and traits.plan = "gold" and event "page" where context.os = "iOS" ever
            """);

        Assert.Equal(["order_completed", "page"], segment.Reads.EventNames.Order());
        Assert.True(segment.Reads.ReadsTraits);
        Assert.False(segment.Reads.ReadsContext); // context inside an event's where reads that event, not the profile
        Assert.True(segment.Reads.ReadsEventDetails);
        Assert.True(segment.Reads.DependsOnTime);
    }

    [Fact]
    public void a_profile_segment_does_not_depend_on_events_or_time()
    {
        var segment = Segment("segment s = traits.plan = \"gold\" or context.locale = \"fr\"");
        Assert.Empty(segment.Reads.EventNames);
        Assert.True(segment.Reads.ReadsProfile);
        Assert.False(segment.Reads.DependsOnTime);
    }
}

/// <summary><c>on entered segment NAME</c> / <c>on exited segment NAME</c>.</summary>
public class when_a_trigger_starts_on_a_segment_change
{
    const string Rules = """
        segment gold = traits.plan = "gold"

        trigger welcome
            on entered segment gold
            send email "welcome"
        """;

    [Fact]
    public void it_starts_on_the_segment_change_event()
    {
        var result = RuleCompiler.Compile(Rules);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var trigger = result.Document!.FindTrigger("welcome")!;

        Assert.Equal(["entered segment gold"], trigger.EventNames);
        Assert.True(trigger.MatchesEvent(new RecordedEvent(SegmentChanges.EventName(Ast.SegmentChange.Entered, "gold"), Now), ContactSnapshot.Empty, Now));
        Assert.False(trigger.MatchesEvent(new RecordedEvent(SegmentChanges.EventName(Ast.SegmentChange.Exited, "gold"), Now), ContactSnapshot.Empty, Now));
        Assert.Same(trigger, Assert.Single(result.Document.TriggersOnEvent("entered segment gold")));
    }

    [Fact]
    public void formatting_gives_back_the_same_rules()
    {
        Assert.True(Formatting.RuleFormatter.TryFormat(Rules.Replace("entered", "exited"), out var formatted, out _));
        Assert.Contains("    on exited segment gold\n", formatted);
        Assert.True(Formatting.RuleFormatter.TryFormat(formatted, out var again, out _));
        Assert.Equal(formatted, again);
    }

    [Fact]
    public void an_unknown_segment_is_named_with_its_line_and_column()
    {
        var result = RuleCompiler.Compile("""
            segment gold = traits.plan = "gold"

            trigger welcome
                on entered segment golt
                send email "welcome"
            """);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("4:5: unknown segment `golt`; did you mean `gold`?", diagnostic.ToString());
    }

    [Fact]
    public void a_segment_name_must_follow()
    {
        var result = RuleCompiler.Compile("trigger welcome\n    on entered segment\n    send email \"welcome\"");
        Assert.False(result.Succeeded);
        Assert.Contains("segment name", Assert.Single(result.Diagnostics).Message);
    }
}
