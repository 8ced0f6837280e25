using System.Globalization;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>
/// What happens when an ingested event reaches a published trigger: pure, deterministic (time comes in as
/// <c>now</c>), returning the events to append. See docs/semantics.md.
/// </summary>
public static class TriggerDecisions
{
    public static IReadOnlyList<IMessageEvent> OnEvent(
        CompiledTrigger trigger,
        RuleVersionRef rule,
        Instant publishedAt,
        Guid contactId,
        ContactEvent candidate,
        ContactSnapshot contact,
        DeliveryHistory history,
        DateTimeZone workspaceZone,
        Guid messageId,
        Instant now)
    {
        var occurredAt = candidate.Event.Timestamp;
        // Events that happened before the trigger was published never qualify, even when they arrive later.
        if (occurredAt < publishedAt) return [];
        if (!trigger.MatchesEvent(candidate.Event, contact, now)) return [];
        if (trigger.Active is { } active && !active.IsActiveAt(occurredAt, workspaceZone)) return [];
        // Two matching events in the same second enter once.
        var second = TruncateToSecond(occurredAt);
        if (history.Entries.Any(e => e.Rule == rule.Name && TruncateToSecond(e.EventTime) == second)) return [];

        var facts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["event"] = candidate.Event.Name,
            ["event.time"] = occurredAt.ToString(),
        };
        foreach (var (key, value) in candidate.Event.Properties.Members) facts[$"properties.{key}"] = Describe(value);

        var matched = new TriggerMatched(contactId, messageId, rule, candidate.Ref, now, facts);
        if (trigger.AtMost is { } cap)
        {
            // Re-eligibility counts messages received from this trigger, not entries.
            var since = now - cap.Per;
            var received = history.Received.Count(m => m.Rule == rule.Name && m.SentAt > since);
            if (received >= cap.Count)
            {
                return
                [
                    matched,
                    new MessageSuppressed(contactId, messageId, SuppressionReason.ReEligibility,
                        $"'{rule.Name}' allows at most {cap.Count} per {Describe(cap.Per)}; the contact received {received} since {since}.",
                        new Dictionary<string, string> { ["cap"] = $"{cap.Count} per {Describe(cap.Per)}", ["received"] = Count(received), ["since"] = since.ToString() },
                        now, rule, candidate.Ref),
                ];
            }
        }

        // The wait runs from the event's own time; an event that arrives late is not made to wait twice.
        var dueAt = Max(occurredAt + trigger.Wait, now);
        var channel = ToChannel(trigger.Message.Channel);
        return
        [
            matched,
            new MessageScheduled(contactId, messageId, channel, trigger.Message.Template, now, dueAt, rule, trigger.IsTransactional, occurredAt,
                candidate.Ref),
        ];
    }

    internal static Channel ToChannel(Dsl.Compilation.Channel channel) =>
        Channels.TryParse(channel.ToString(), out var parsed) ? parsed : throw new ArgumentOutOfRangeException(nameof(channel), channel, null);

    private static Instant TruncateToSecond(Instant instant) => Instant.FromUnixTimeSeconds(instant.ToUnixTimeSeconds());

    private static Instant Max(Instant a, Instant b) => a > b ? a : b;

    internal static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    internal static string Describe(Duration duration) => duration switch
    {
        _ when duration.TotalDays >= 1 && duration.TotalDays % 1 == 0 => $"{duration.TotalDays.ToString(CultureInfo.InvariantCulture)}d",
        _ when duration.TotalHours >= 1 && duration.TotalHours % 1 == 0 => $"{duration.TotalHours.ToString(CultureInfo.InvariantCulture)}h",
        _ when duration.TotalMinutes >= 1 && duration.TotalMinutes % 1 == 0 => $"{duration.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m",
        _ => $"{duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s",
    };

    internal static string Describe(Value? value) => value switch
    {
        null => "null",
        _ => value.ToString() ?? "",
    };
}
