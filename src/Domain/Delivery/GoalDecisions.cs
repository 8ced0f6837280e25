using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;
using NodaTime;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>A message sent by a trigger with a goal (or <paramref name="Withheld"/> from a control-group contact at
/// <paramref name="SentAt"/>), and whether a conversion was already recorded for it.</summary>
public sealed record GoalCandidate(Guid MessageId, RuleVersionRef Rule, Instant SentAt, bool Converted, Channel? Channel = null, bool Withheld = false);

/// <summary>Credits a goal event to the messages it converts: each message at most once, within its goal window. A message
/// withheld from a control-group contact is measured the same way, from the instant it was withheld, and recorded as
/// <see cref="ControlGroupConverted"/> instead of a credit.</summary>
public static class GoalDecisions
{
    public static IReadOnlyList<IMessageEvent> OnEvent(
        Guid contactId,
        ContactEvent candidate,
        ContactSnapshot contact,
        IReadOnlyList<GoalCandidate> sentMessages,
        Func<string, Goal?> goalOf,
        Instant now)
    {
        var attributed = new List<IMessageEvent>();
        foreach (var sent in sentMessages)
        {
            if (sent.Converted || goalOf(sent.Rule.Name) is not { } goal) continue;
            var at = candidate.Event.Timestamp;
            if (at <= sent.SentAt || at > sent.SentAt + goal.Within) continue;
            if (!goal.Event.Matches(candidate.Event, contact, now, sent.SentAt)) continue;
            attributed.Add(sent.Withheld
                ? new ControlGroupConverted(contactId, sent.MessageId, sent.Rule, candidate.Ref, sent.SentAt, now, sent.Channel, goal.RevenueOf(candidate.Event))
                : new ConversionAttributed(contactId, sent.MessageId, sent.Rule, candidate.Ref, sent.SentAt, now, sent.Channel,
                    goal.RevenueOf(candidate.Event)));
        }
        return attributed;
    }
}
