using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;
using NodaTime;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>A message sent by a trigger with a goal, and whether a conversion was already credited to it.</summary>
public sealed record GoalCandidate(Guid MessageId, RuleVersionRef Rule, Instant SentAt, bool Converted, Channel? Channel = null);

/// <summary>Credits a goal event to the messages it converts: each message at most once, within its goal window.</summary>
public static class GoalDecisions
{
    public static IReadOnlyList<ConversionAttributed> OnEvent(
        Guid contactId,
        ContactEvent candidate,
        ContactSnapshot contact,
        IReadOnlyList<GoalCandidate> sentMessages,
        Func<string, Goal?> goalOf,
        Instant now)
    {
        var attributed = new List<ConversionAttributed>();
        foreach (var sent in sentMessages)
        {
            if (sent.Converted || goalOf(sent.Rule.Name) is not { } goal) continue;
            var at = candidate.Event.Timestamp;
            if (at <= sent.SentAt || at > sent.SentAt + goal.Within) continue;
            if (!goal.Event.Matches(candidate.Event, contact, now, sent.SentAt)) continue;
            attributed.Add(new ConversionAttributed(contactId, sent.MessageId, sent.Rule, candidate.Ref, sent.SentAt, now, sent.Channel,
                goal.RevenueOf(candidate.Event)));
        }
        return attributed;
    }
}
