using System.Text;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Bench;

/// <summary>The issue's examples, a contact to evaluate them on, and a generated large document.</summary>
static class RulesFixture
{
    public static readonly Instant Now = Instant.FromUtc(2026, 12, 10, 12, 0);

    public const string IssueExamples = """
        segment active_buyers =
            count(event "order_completed" in last 45d) >= 1

        segment urban_women_35_45 =
            traits.gender = "female"
            and traits.age between 35 and 45
            and traits.city_tier = "urban"
            and context.os.name in ["iOS", "Android"]
            and segment active_buyers

        segment lapsed_subscribers =
            traits.plan = "paid"
            and event "app_opened" ever
            and not event "app_opened" in last 30d

        segment big_spenders =
            sum(properties.total of event "order_completed" in last 90d) >= 500

        segment loyal_big_spenders =
            count(event "order_completed" where properties.total > 50 in last 365d) >= 3
            and sum(properties.total of event "order_completed" in last 90d) >= 500

        trigger abandoned_cart_over_100
            on event "cart_updated" where properties.total > 100
            wait 30m
            cancel if event "order_completed"
            audience segment active_buyers
            send email "cart-reminder"
            send between 09:00 and 21:00 local
            at most 1 per 7d
            active from 2026-12-01 to 2027-01-01
            goal event "order_completed" within 3d
        """;

    public static CompiledDocument Compile(string text)
    {
        var result = RuleCompiler.Compile(text);
        return result.Document ?? throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
    }

    /// <summary>A contact with <paramref name="eventCount"/> events over two years: half of them orders.</summary>
    public static ContactSnapshot Contact(int eventCount)
    {
        var events = Enumerable.Range(0, eventCount).Select(i => i % 2 == 0
            ? new RecordedEvent("order_completed", Now - Duration.FromHours(i * 17), Value.Object(("total", Value.Of(20 + i % 90))), ObjectValue.Empty)
            : new RecordedEvent("page_viewed", Now - Duration.FromHours(i * 17), Value.Object(("path", Value.Of("/p/" + i))), ObjectValue.Empty));
        return new ContactSnapshot(
            Value.Object(("gender", Value.Of("female")), ("age", Value.Of(38)), ("city_tier", Value.Of("urban")), ("plan", Value.Of("paid"))),
            Value.Object(("os", Value.Object(("name", Value.Of("Android"))))),
            events);
    }

    /// <summary>1,000 rules in the shapes marketers write: segments over traits and behaviour, most built on
    /// one of twenty base segments, and triggers from the everyday shape to every kind of line.</summary>
    public static string ThousandRules()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 400; i++)
        {
            text.Append($"""
                segment s{i} =
                    traits.age between {18 + i % 30} and {40 + i % 30}
                    and context.os.name in ["iOS", "Android"]
                    and count(event "order_completed" where properties.total > {i % 200} in last {1 + i % 90}d) >= 1
                    and not event "unsubscribed" ever
                """).Append(i >= 20 ? $"\n    and (segment s{i % 20} or traits.plan = \"paid\")\n\n" : "\n\n");
        }
        for (var i = 0; i < 600; i++)
        {
            // One trigger in four uses every line; the rest are the everyday shape. Together they keep the
            // document under RuleCompiler.MaxDocumentLength, as any document the API accepts must be.
            text.Append(i % 4 == 0
                ? $"""
                    trigger t{i}
                        on event "cart_updated", "cart_viewed" where properties.total > {i} and properties.currency = "EUR"
                        wait {1 + i % 120}m
                        cancel if event "order_completed" where properties.cart_id exists
                        audience segment s{i % 400}
                        send email "template-{i}"
                        send between 09:00 and 21:00 local
                        at most 1 per 7d
                        active from 2026-12-01 to 2027-01-01
                        goal event "order_completed" within 3d


                    """
                : $"""
                    trigger t{i}
                        on event "cart_updated" where properties.total > {i}
                        wait {1 + i % 120}m
                        cancel if event "order_completed"
                        send push "template-{i}"


                    """);
        }
        return text.ToString();
    }
}
