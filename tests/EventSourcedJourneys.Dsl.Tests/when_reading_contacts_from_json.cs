using System.Text.Json;
using EventSourcedJourneys.Dsl.Formatting;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_reading_contacts_from_json
{
    [Fact]
    public void traits_from_json_are_evaluated_like_traits_built_in_code()
    {
        using var json = JsonDocument.Parse("""{ "age": 38, "address": { "city": "上海" }, "tags": ["vip", 7], "plan": null }""");
        var contact = new ContactSnapshot(Value.ObjectFromJson(json.RootElement), ObjectValue.Empty, []);
        var document = RuleCompiler.Compile("""
            segment s =
                traits.age between 35 and 45
                and traits.address.city = "上海"
                and traits.tags contains "vip"
                and traits.tags contains 7
                and not traits.plan exists
            """).Document!;

        Assert.True(document.FindSegment("s")!.Contains(contact, Now));
    }

    [Fact]
    public void a_json_value_that_is_not_an_object_gives_no_traits()
    {
        using var json = JsonDocument.Parse("[1, 2]");

        Assert.Empty(Value.ObjectFromJson(json.RootElement).Members);
    }

    [Fact]
    public void a_date_trait_at_the_end_of_the_calendar_schedules_nothing_instead_of_failing()
    {
        var trigger = RuleCompiler.Compile("trigger t on date traits.expires plus 30d at 10:00 local send sms \"x\"").Document!.Triggers[0];
        var contact = Contact().WithTraits(("expires", Value.Of("9999-12-31")));

        Assert.Empty(trigger.OnDate!.OccurrencesFor(contact, DateTimeZone.Utc));
    }

    [Fact]
    public void rules_text_can_be_formatted_in_one_call()
    {
        Assert.True(RuleFormatter.TryFormat("segment   s=traits.a   exists  # why", out var formatted, out _));
        Assert.Equal("segment s =\n    traits.a exists\n", formatted);
        Assert.False(RuleFormatter.TryFormat("segment s =", out _, out var diagnostics));
        Assert.Single(diagnostics);
    }
}
