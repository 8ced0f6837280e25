namespace EventSourcedJourneys.Dsl.Tests;

public class when_checking
{
    static IReadOnlyList<string> Errors(string text)
    {
        var result = RuleCompiler.Compile(text);
        Assert.False(result.Succeeded);
        Assert.Null(result.Document);
        return result.Diagnostics.Select(d => d.ToString()).ToArray();
    }

    const string Send = "send email \"x\"";

    [Fact]
    public void a_misspelled_segment_reference_suggests_the_closest_name() =>
        Assert.Equal(
            ["2:13: unknown segment `active_buyer`; did you mean `active_buyers`?"],
            Errors("segment active_buyers = count(event \"o\" ever) >= 1\nsegment s = segment active_buyer"));

    [Fact]
    public void a_reference_to_nothing_similar_just_says_unknown() =>
        Assert.Equal(["1:13: unknown segment `whales`"], Errors("segment s = segment whales"));

    [Fact]
    public void a_reference_to_a_rule_that_failed_to_parse_is_not_reported_twice() =>
        Assert.Equal(
            ["2:24: unexpected end of text, expected `[`"],
            Errors("segment s = segment t\nsegment t = traits.a in"));

    [Fact]
    public void segments_that_refer_to_each_other_in_a_circle_are_reported_once() =>
        Assert.Equal(
            ["1:1: segments refer to each other in a circle: `a` → `b` → `c` → `a`; one of them must stop referring to the next"],
            Errors("segment a = segment b\nsegment b = segment c\nsegment c = segment a or traits.x exists"));

    [Fact]
    public void a_long_circle_is_named_by_its_first_and_last_segments() =>
        Assert.Equal(
            ["1:1: segments refer to each other in a circle: `s0` → `s1` → `s2` → `s3` → … → `s8` → `s9` → `s0` (10 segments); one of them must stop referring to the next"],
            Errors(string.Join("\n", Enumerable.Range(0, 10).Select(i => $"segment s{i} = segment s{(i + 1) % 10}"))));

    [Fact]
    public void a_segment_that_refers_to_itself_is_reported() =>
        Assert.Equal(["1:1: segment `a` refers to itself"], Errors("segment a = traits.x = 1 and segment a"));

    [Fact]
    public void comparing_a_property_with_text_using_greater_than_is_a_type_mismatch() =>
        Assert.Equal(
            ["1:60: `>` compares numbers or times, but \"abc\" is a text"],
            Errors($"trigger t on event \"cart_updated\" where properties.total > \"abc\" {Send}"));

    [Fact]
    public void comparing_a_count_with_text_is_a_type_mismatch() =>
        Assert.Equal(
            ["1:13: `count(event \"o\" ever)` is a number and \"many\" is a text, so they are never equal"],
            Errors("segment s = count(event \"o\" ever) = \"many\""));

    [Fact]
    public void comparing_a_time_with_a_number_is_a_type_mismatch() =>
        Assert.Equal(
            ["1:36: `>` cannot compare a time with 5, which is a number"],
            Errors("segment s = last(event \"o\" ever) > 5"));

    [Fact]
    public void impossible_windows_are_each_reported()
    {
        var text = """
            trigger t
                on event "a"
                wait 0s
                send email "x"
                send between 09:00 and 09:00 local
                at most 0 per 1d
                active from 2027-01-01 to 2026-12-01
            segment s = event "a" in last 0d
            """;

        Assert.Equal(
            [
                "3:5: `wait 0s` waits for nothing; remove the line to send straight away, or wait a positive duration",
                "5:5: `send between 09:00 and 09:00` is an empty window; give two different times",
                "6:5: `0 per 1d` never lets a message through; allow at least 1",
                "7:5: the trigger would stop (2026-12-01) before it starts (2027-01-01); swap the dates",
                "8:23: `in last 0d` is an empty window; give a positive duration",
            ],
            Errors(text));
    }

    [Fact]
    public void durations_beyond_the_limits_are_reported() =>
        Assert.Equal(
            [
                "1:29: `400d` is too long for a wait; the longest allowed is 365d",
                "1:61: `20000d` is too long for a look-back window; the longest allowed is 3650d",
            ],
            Errors($"trigger t on event \"a\" wait 400d audience event \"b\" in last 20000d {Send}"));

    [Fact]
    public void duplicate_names_point_at_the_first_definition() =>
        Assert.Equal(
            ["2:1: `s` is already defined on line 1; give each rule its own name"],
            Errors($"segment s = traits.a exists\ntrigger s on event \"a\" {Send}"));

    [Fact]
    public void a_trigger_without_on_or_send_says_what_is_missing() =>
        Assert.Equal(
            [
                "1:1: trigger `t` has no `on` line: say which event, date or segment change starts it",
                "1:1: trigger `t` has no `send` line: say which channel and template to use, such as send email \"welcome\"",
            ],
            Errors("trigger t wait 5m"));

    [Fact]
    public void a_repeated_trigger_line_points_at_the_first_one() =>
        Assert.Equal(
            ["3:5: trigger `t` already has a `wait` line on line 2"],
            Errors($"trigger t on event \"a\"\n    wait 5m\n    wait 10m\n    {Send}"));

    [Fact]
    public void a_misspelled_channel_suggests_the_closest_one() =>
        Assert.Equal(
            ["1:24: unknown channel `mail`; did you mean `email`?"],
            Errors("trigger t on event \"a\" send mail \"x\""));

    [Fact]
    public void event_properties_outside_an_event_are_reported() =>
        Assert.Equal(
            ["1:13: `properties.total` needs an event to read from: use it inside `event \"…\" where …`, an aggregate such as sum(…), or a trigger's `on event … where …`"],
            Errors("segment s = properties.total > 5"));

    [Fact]
    public void a_goal_revenue_read_from_anything_but_the_goal_event_is_reported() =>
        Assert.Equal(
            ["1:72: revenue is read from the goal event; write a path of its properties such as properties.total, not traits.…"],
            Errors("trigger t on event \"a\" send email \"x\" goal event \"o\" within 3d revenue traits.ltv"));

    [Fact]
    public void since_entry_in_a_segment_is_reported() =>
        Assert.Equal(
            ["1:23: `since entry` only has a meaning inside a trigger, and segment `s` is not one; use `in last …` or `ever`"],
            Errors("segment s = event \"a\" since entry"));

    [Fact]
    public void the_same_mistake_twice_is_reported_at_each_place() =>
        Assert.Equal(
            [
                "1:23: `since entry` only has a meaning inside a trigger, and segment `s` is not one; use `in last …` or `ever`",
                "2:23: `since entry` only has a meaning inside a trigger, and segment `t` is not one; use `in last …` or `ever`",
                "3:13: `>` compares numbers or times, but true is a yes/no value",
                "3:30: `>` compares numbers or times, but true is a yes/no value",
            ],
            Errors("segment s = event \"a\" since entry\nsegment t = event \"a\" since entry\nsegment u = true > 1 and 2 > true"));

    [Fact]
    public void date_offsets_in_hours_are_reported() =>
        Assert.Equal(
            ["1:40: date offsets are whole days or weeks, such as 7d or 2w, not `12h`"],
            Errors($"trigger t on date traits.renewal minus 12h at 10:00 local {Send}"));

    [Fact]
    public void syntax_and_meaning_errors_are_reported_together_in_document_order() =>
        Assert.Equal(
            [
                "1:13: unknown segment `nobody`",
                "2:29: unexpected keyword `send`, expected a duration such as 30m",
            ],
            Errors($"segment s = segment nobody\ntrigger t on event \"a\" wait {Send}"));
}

public class when_compiling_bad_input
{
    [Fact]
    public void no_text_at_all_is_an_empty_document() =>
        Assert.Equal(
            "1:1: the document is empty; write at least one segment, trigger, policy or funnel",
            Assert.Single(RuleCompiler.Compile(null).Diagnostics).ToString());

    [Fact]
    public void a_megabyte_of_garbage_is_refused_as_too_large_without_reading_it()
    {
        var garbage = string.Create(1 << 20, 7, (chars, seed) =>
        {
            var random = new Random(seed);
            for (var i = 0; i < chars.Length; i++)
                chars[i] = (char)random.Next(0, 0xD7FF);
        });

        var result = RuleCompiler.Compile(garbage);

        Assert.Equal(Diagnostics.DiagnosticCodes.DocumentTooLarge, Assert.Single(result.Diagnostics).Code);
        Assert.Empty(result.Rules);
    }

    [Fact]
    public void ten_thousand_nested_parentheses_compile_to_one_diagnostic()
    {
        var result = RuleCompiler.Compile("segment s = " + new string('(', 10_000) + "traits.a exists" + new string(')', 10_000));

        Assert.Equal(Diagnostics.DiagnosticCodes.TooDeeplyNested, Assert.Single(result.Diagnostics).Code);
    }

    [Fact]
    public void a_chain_of_thousands_of_segments_is_reported_instead_of_recursed()
    {
        var text = string.Join("\n", Enumerable.Range(0, 5_000).Select(i => $"segment s{i} = segment s{i + 1}")) + "\nsegment s5000 = traits.a exists";

        Assert.Equal(
            ["4969:1: segment `s4968` is built on more than 32 levels of other segments; flatten some of them"],
            RuleCompiler.Compile(text).Diagnostics.Select(d => d.ToString()));
    }

    /// <summary>s0 holds one condition; each next segment uses the previous one three times, so sᵢ stands for
    /// 4 + 3 × size(sᵢ₋₁) conditions: s9 for 59,047, s10 for 177,145.</summary>
    static string SegmentsUsingThePreviousThreeTimes(int last) =>
        "segment s0 = traits.a exists\n"
        + string.Concat(Enumerable.Range(1, last).Select(i => $"segment s{i} = segment s{i - 1} or segment s{i - 1} or segment s{i - 1}\n"));

    [Fact]
    public void segments_that_use_each_other_over_and_over_are_refused_where_they_grow_too_large() =>
        Assert.Equal(
            ["11:1: segment `s10` is too large to evaluate: with the segments it uses written out (each use counted), it holds more than 100,000 conditions; use fewer or smaller segments"],
            RuleCompiler.Compile(SegmentsUsingThePreviousThreeTimes(30)).Diagnostics.Select(d => d.ToString()));

    [Fact]
    public void a_segment_just_under_the_size_limit_is_evaluated_quickly()
    {
        var segment = RuleCompiler.Compile(SegmentsUsingThePreviousThreeTimes(9)).Document!.FindSegment("s9")!;
        var withTrait = Contacts.Contact().WithTraits(("a", Runtime.Value.Of(1)));

        var results = (false, false);
        var cpu = ThreadCpuTime.Measure(() => results = (segment.Contains(Contacts.Contact(), Contacts.Now), segment.Contains(withTrait, Contacts.Now)));

        Assert.Equal((false, true), results);
        Assert.InRange(cpu, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void a_trigger_line_that_uses_a_large_segment_too_often_is_refused() =>
        Assert.Equal(
            ["12:5: an `audience` line of trigger `t` is too large to evaluate: with the segments it uses written out (each use counted), it holds more than 100,000 conditions; use fewer or smaller segments"],
            RuleCompiler.Compile(SegmentsUsingThePreviousThreeTimes(9) + "trigger t on event \"a\"\n    audience segment s9 or segment s9\n    send email \"x\"")
                .Diagnostics.Select(d => d.ToString()));

    [Fact]
    public void an_unterminated_text_at_the_very_end_is_reported() =>
        Assert.Equal(
            "1:27: this text has no closing quote (\") before the end of the line",
            Assert.Single(RuleCompiler.Compile("segment s = traits.city = \"Shangh").Diagnostics).ToString());
}
