using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;

namespace EventSourcedJourneys.Domain.Tests;

/// <summary>The seed rules, compiled, and small builders for contacts and their events.</summary>
public static class Scenario
{
    public const string Rules = """
        segment active_buyers =
            count(event "order_completed" in last 45d) >= 1

        trigger abandoned_cart_over_100
            on event "cart_updated" where properties.total > 100
            wait 30m
            cancel if event "order_completed"
            audience segment active_buyers
            send email "cart-reminder"
            send between 09:00 and 21:00 local
            at most 1 per 7d

        trigger order_shipped
            on event "order_shipped"
            transactional
            send sms "shipping-update"

        trigger welcome
            on event "signed_up"
            send email "welcome"

        policy frequency cap 3 per 1d, 10 per 7d
        policy quiet hours 21:00 to 09:00 local
        """;

    public static readonly CompiledDocument Compiled = RuleCompiler.Compile(Rules).Document
        ?? throw new InvalidOperationException(string.Join("\n", RuleCompiler.Compile(Rules).Diagnostics));

    public static readonly Guid Contact = Guid.Parse("0195a6c1-0000-7000-8000-0000000000aa");
    public static readonly Instant PublishedAt = Instant.FromUtc(2026, 12, 1, 0, 0);
    public static readonly DateTimeZone Paris = DateTimeZoneProviders.Tzdb["Europe/Paris"];

    public static RuleVersionRef Rule(string name) => new(name, 1, new string('a', 64));

    private static long _sequence;

    public static ContactEvent Event(string name, Instant at, string properties = "{}") =>
        new(new EventRef(Guid.NewGuid(), Interlocked.Increment(ref _sequence), name, at),
            new RecordedEvent(name, at, Value.ObjectFromJson(System.Text.Json.JsonDocument.Parse(properties).RootElement), ObjectValue.Empty));

    public static ContactSnapshot ContactWith(params ContactEvent[] events) =>
        new(ObjectValue.Empty, ObjectValue.Empty, events.Select(e => e.Event));

    public static ContactReachability Reachable(params Channel[] channels) =>
        new(channels.ToDictionary(c => c, c => c == Channel.Email ? "ana@example.com" : "+33600000000"), new HashSet<Channel>());
}
