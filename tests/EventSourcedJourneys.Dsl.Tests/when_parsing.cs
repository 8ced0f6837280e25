using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Parsing;
using EventSourcedJourneys.Dsl.Tests.Examples;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_parsing
{
    static RuleDocument ParseClean(string text)
    {
        var ok = RuleParser.TryParse(text, out var document, out var diagnostics);
        Assert.True(ok, string.Join("\n", diagnostics));
        return document;
    }

    static string SingleError(string text)
    {
        Assert.False(RuleParser.TryParse(text, out _, out var diagnostics));
        return Assert.Single(diagnostics).ToString();
    }

    [Fact]
    public void the_issue_examples_parse_into_four_segments_four_triggers_and_two_policies()
    {
        var rules = ParseClean(ExampleFiles.IssueExamples).Rules;

        Assert.Equal(
            ["active_buyers", "urban_women_35_45", "lapsed_subscribers", "big_spenders"],
            rules.OfType<SegmentRule>().Select(s => s.Name));
        Assert.Equal(
            ["abandoned_cart_over_100", "browsed_wealth_no_purchase", "vip_expiry_reminder", "order_shipped"],
            rules.OfType<TriggerRule>().Select(t => t.Name));
        Assert.Equal(2, rules.OfType<PolicyRule>().Count());
    }

    [Fact]
    public void a_segment_becomes_a_flat_list_of_conditions_joined_by_and()
    {
        var segment = (SegmentRule)ParseClean("""
            segment s = traits.gender = "female" and traits.age between 35 and 45 and segment other
            """).Rules[0];

        var expected = new AllOf(NodeList.Of<Condition>(
            new Comparison(new PathOperand(PathRoot.Traits, NodeList.Of("gender")), ComparisonOperator.Equal, new TextLiteral("female")),
            new Between(new PathOperand(PathRoot.Traits, NodeList.Of("age")), new NumberLiteral(35), new NumberLiteral(45)),
            new SegmentReference("other")));
        Assert.Equal(expected, segment.Condition);
    }

    [Fact]
    public void and_binds_tighter_than_or_and_parentheses_override_it()
    {
        var a = new SegmentReference("a");
        var b = new SegmentReference("b");
        var c = new SegmentReference("c");

        var loose = (SegmentRule)ParseClean("segment s = segment a or segment b and segment c").Rules[0];
        var grouped = (SegmentRule)ParseClean("segment s = (segment a or segment b) and segment c").Rules[0];

        Assert.Equal(new AnyOf(NodeList.Of<Condition>(a, new AllOf(NodeList.Of<Condition>(b, c)))), loose.Condition);
        Assert.Equal(new AllOf(NodeList.Of<Condition>(new AnyOf(NodeList.Of<Condition>(a, b)), c)), grouped.Condition);
    }

    [Fact]
    public void the_date_trigger_keeps_its_offsets_time_and_zone()
    {
        var trigger = ParseClean(ExampleFiles.IssueExamples).Rules.OfType<TriggerRule>().Single(t => t.Name == "vip_expiry_reminder");

        var on = Assert.IsType<OnDateClause>(trigger.Clauses[0]);
        Assert.Equal(new PathOperand(PathRoot.Traits, NodeList.Of("vip_expires_at")), on.DatePath);
        Assert.Equal(OffsetDirection.Minus, on.Direction);
        Assert.Equal([30L, 15L, 7L], on.Offsets.Select(o => o.Amount));
        Assert.Equal(new LocalTime(10, 0), on.At);
        Assert.Equal(ZoneReference.Local, on.Zone);
    }

    [Fact]
    public void unicode_event_names_and_values_are_read_as_written()
    {
        var trigger = (TriggerRule)ParseClean("""
            trigger 中文 on event "订单完成" where properties.城市 = "上海" send email "模板"
            """).Rules[0];

        var on = Assert.IsType<OnEventClause>(trigger.Clauses[0]);
        Assert.Equal("订单完成", on.EventNames[0]);
        Assert.Equal(new Comparison(new PathOperand(PathRoot.Properties, NodeList.Of("城市")), ComparisonOperator.Equal, new TextLiteral("上海")), on.Where);
    }

    [Fact]
    public void names_may_use_letters_beyond_the_basic_plane()
    {
        var segment = (SegmentRule)ParseClean("segment 𠀀名 = traits.𠀁 exists").Rules[0];

        Assert.Equal(("𠀀名", new Exists(new PathOperand(PathRoot.Traits, NodeList.Of("𠀁")))), (segment.Name, segment.Condition));
    }

    [Fact]
    public void a_character_beyond_the_basic_plane_is_shown_whole_and_half_of_one_by_its_code() =>
        Assert.Equal(
            ["1:13: unexpected character `😀`", "2:13: unexpected character U+D83D"],
            Errors("segment s = 😀 traits.a exists\nsegment t = \ud83d traits.a exists"));

    static IReadOnlyList<string> Errors(string text)
    {
        Assert.False(RuleParser.TryParse(text, out _, out var diagnostics));
        return diagnostics.Select(d => d.ToString()).ToArray();
    }

    [Fact]
    public void keywords_may_be_used_as_property_names_after_a_dot()
    {
        var segment = (SegmentRule)ParseClean("""segment s = traits.count > 1 and traits."first name" exists""").Rules[0];

        Assert.Equal(
            new AllOf(NodeList.Of<Condition>(
                new Comparison(new PathOperand(PathRoot.Traits, NodeList.Of("count")), ComparisonOperator.Greater, new NumberLiteral(1)),
                new Exists(new PathOperand(PathRoot.Traits, NodeList.Of("first name"))))),
            segment.Condition);
    }

    [Fact]
    public void a_funnel_parses_its_steps_and_window()
    {
        var funnel = (FunnelRule)ParseClean("""funnel checkout = event "a" -> event "b" -> event "c" within 7d""").Rules[0];

        Assert.Equal(["a", "b", "c"], funnel.Steps.Select(s => s.EventName));
        Assert.Equal(new DurationLiteral(7, DurationUnit.Days), funnel.Within);
    }

    [Fact]
    public void a_misspelled_trigger_line_names_every_line_that_could_come_next() =>
        Assert.Equal(
            "3:5: unexpected name `wiat`, expected `on`, `wait`, `cancel`, `audience`, `send`, `at`, `active`, `goal`, `transactional` or `control`",
            SingleError("trigger t\n    on event \"a\"\n    wiat 30m\n    send email \"x\""));

    [Fact]
    public void a_segment_missing_its_condition_points_at_the_next_rule() =>
        Assert.Equal(
            "2:1: unexpected keyword `trigger`, expected `not`, `(`, `segment`, `event` or a value (a path such as traits.age, a number, a quoted text or an aggregate such as count(…))",
            SingleError("segment s =\ntrigger t on event \"a\" send email \"x\""));

    [Fact]
    public void a_missing_window_after_an_event_condition_is_reported() =>
        Assert.Equal(
            "1:32: unexpected keyword `and`, expected `where` or a window (`in last 30d`, `ever` or `since entry`)",
            SingleError("segment s = event \"app_opened\" and traits.x = 1"));

    [Fact]
    public void an_unterminated_text_is_reported_where_it_starts() =>
        Assert.Equal(
            "2:27: this text has no closing quote (\") before the end of the line",
            SingleError("trigger t\n  on event \"a\" send email \"cart-reminder\n"));

    [Fact]
    public void a_duration_with_a_unit_we_do_not_know_is_reported() =>
        Assert.Equal(
            "1:29: `30days` is not a number, duration, date or time; write durations like 30m, 2h or 7d, dates like 2026-12-01 and times like 09:00",
            SingleError("trigger t on event \"a\" wait 30days send email \"x\""));

    [Fact]
    public void an_impossible_time_of_day_is_reported() =>
        Assert.Equal(
            "1:52: expected a time of day between 00:00 and 23:59",
            SingleError("trigger t on event \"a\" send email \"x\" send between 25:00 and 21:00 local"));

    [Fact]
    public void exists_can_only_follow_a_path() =>
        Assert.Equal(
            "1:15: only a path such as traits.phone can be tested with `exists`",
            SingleError("segment s = 5 exists"));

    [Fact]
    public void journeys_are_recognised_but_not_available_yet() =>
        Assert.Equal(
            "1:1: multi-step journeys are not available yet; use triggers",
            SingleError("journey welcome\n  step one send email \"x\"\nend"));

    [Fact]
    public void each_broken_rule_gets_its_own_error_and_good_rules_still_parse()
    {
        Assert.False(RuleParser.TryParse("""
            segment a = traits.x = 1 traits.y = 2
            segment b = traits.x = 1
            trigger t on event "a" send fax "x" wait
            """, out var document, out var diagnostics));

        Assert.Equal(
            [
                "1:26: unexpected keyword `traits`, expected `and` or `or`",
                "3:41: unexpected end of text, expected a duration such as 30m",
            ],
            diagnostics.Select(d => d.ToString()));
        Assert.Equal("b", Assert.IsType<SegmentRule>(Assert.Single(document.Rules)).Name);
    }
}
