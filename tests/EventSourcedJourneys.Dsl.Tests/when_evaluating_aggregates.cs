using EventSourcedJourneys.Dsl.Runtime;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_evaluating_aggregates
{
    static readonly ContactSnapshot Shopper = Contact(
        Event("order_completed", Days(100), ("total", Value.Of(1000))),
        Event("order_completed", Days(20), ("total", Value.Of(30))),
        Event("order_completed", Days(10), ("total", Value.Of("70.5"))),
        Event("order_completed", Days(5), ("total", Value.Of("n/a"))),
        Event("order_completed", Days(2)),
        Event("page_viewed", Days(1)));

    static bool Holds(string condition, ContactSnapshot? contact = null)
    {
        var result = RuleCompiler.Compile($"segment s = {condition}");
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Document!.FindSegment("s")!.Contains(contact ?? Shopper, Now);
    }

    [Theory]
    [InlineData("count(event \"order_completed\" in last 30d) = 4")]
    [InlineData("count(event \"order_completed\" ever) = 5")]
    [InlineData("count(event \"order_completed\" where properties.total >= 50 ever) = 2")]
    [InlineData("count(event \"refund\" ever) = 0")]
    [InlineData("sum(properties.total of event \"order_completed\" in last 30d) = 100.5")]
    [InlineData("min(properties.total of event \"order_completed\" ever) = 30")]
    [InlineData("max(properties.total of event \"order_completed\" ever) = 1000")]
    [InlineData("avg(properties.total of event \"order_completed\" in last 30d) = 50.25")]
    [InlineData("last(event \"order_completed\" ever) > 3d ago")]
    [InlineData("first(event \"order_completed\" ever) < 99d ago")]
    [InlineData("first(event \"order_completed\" where properties.total < 100 ever) between 21d ago and 19d ago")]
    [InlineData("sum(properties.total of event \"refund\" ever) = 0")]
    public void aggregates_count_add_and_date_the_matching_events(string condition) => Assert.True(Holds(condition));

    [Theory]
    [InlineData("min(properties.total of event \"refund\" ever) < 1000000")]
    [InlineData("avg(properties.total of event \"refund\" ever) >= 0")]
    [InlineData("last(event \"refund\" ever) < 1d ago")]
    [InlineData("last(event \"refund\" ever) != 1d ago")]
    public void an_aggregate_over_no_events_is_missing_and_every_comparison_with_it_is_false(string condition) =>
        Assert.False(Holds(condition));

    [Fact]
    public void events_given_out_of_order_are_put_in_time_order()
    {
        var contact = Contact(Event("app_opened", Days(1)), Event("app_opened", Days(40)), Event("app_opened", Days(10)));

        Assert.True(Holds("first(event \"app_opened\" ever) < 39d ago and last(event \"app_opened\" ever) > 2d ago", contact));
        Assert.Equal([Days(40), Days(10), Days(1)], contact.Events.Select(e => Now - e.Timestamp));
    }

    [Theory]
    [InlineData("\"abc\"", true)]
    [InlineData("\"5\"", false)]
    [InlineData("5", false)]
    [InlineData("true", true)]
    [InlineData("null", false)]
    public void a_present_value_of_another_kind_is_unequal_to_a_number(string json, bool unequal) =>
        Assert.Equal(unequal, Holds("traits.plan != 5", new ContactSnapshot(Value.ObjectFromJson(System.Text.Json.JsonDocument.Parse($"{{\"plan\": {json}}}").RootElement), ObjectValue.Empty, [])));

    [Fact]
    public void events_stamped_after_now_are_not_counted() =>
        Assert.False(Holds("event \"order_completed\" in last 1d", Contact(Event("order_completed", Days(-1)))));
}
