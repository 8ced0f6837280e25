using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using Marten.Events.Aggregation;

namespace EventSourcedJourneys.Projections.Messages;

/// <summary>
/// Per contact: the messages received and the triggers entered — what frequency caps, re-eligibility and
/// same-second de-duplication count. Kept in the same transaction as the decisions that change it.
/// </summary>
public sealed record ContactDeliveryLog(
    Guid Id,
    IReadOnlyList<ReceivedMessage> Received,
    IReadOnlyList<TriggerEntry> Entries,
    IReadOnlyList<GoalCandidate>? Goals = null)
{
    private static readonly int Keep = 500;

    public DeliveryHistory History => new(Received, Entries);

    internal ContactDeliveryLog WithReceived(ReceivedMessage message) =>
        this with { Received = [.. Received.TakeLast(Keep - 1), message] };

    internal ContactDeliveryLog WithEntry(TriggerEntry entry) =>
        this with { Entries = [.. Entries.TakeLast(Keep - 1), entry] };

    /// <summary>Messages sent by triggers that a later goal event may still convert.</summary>
    public IReadOnlyList<GoalCandidate> OpenGoals => Goals?.Where(g => !g.Converted).ToList() ?? [];

    internal ContactDeliveryLog WithSent(MessageSent e)
    {
        var log = WithReceived(new ReceivedMessage(e.MessageId, e.Rule, e.Transactional, e.SentAt));
        return e.RuleVersion is { } rule
            ? log with { Goals = [.. (Goals ?? []).TakeLast(Keep - 1), new GoalCandidate(e.MessageId, rule, e.SentAt, false, e.Channel)] }
            : log;
    }

    /// <summary>A message withheld from a control-group contact is not received (caps and re-eligibility do not count it),
    /// but its goal is measured from the instant it was withheld.</summary>
    internal ContactDeliveryLog WithWithheld(MessageWithheld e) =>
        this with { Goals = [.. (Goals ?? []).TakeLast(Keep - 1), new GoalCandidate(e.MessageId, e.Rule, e.DecidedAt, false, e.Channel, Withheld: true)] };

    internal ContactDeliveryLog WithConversion(Guid messageId) =>
        this with { Goals = (Goals ?? []).Select(g => g.MessageId == messageId ? g with { Converted = true } : g).ToList() };
}

public sealed partial class ContactDeliveryLogProjection : SingleStreamProjection<ContactDeliveryLog, Guid>
{
    public static ContactDeliveryLog Create(TriggerMatched e) =>
        new(e.ContactId, [], [new TriggerEntry(e.Rule.Name, e.TriggeringEvent.OccurredAt)]);

    public static ContactDeliveryLog Create(MessageSent e) => new ContactDeliveryLog(e.ContactId, [], []).WithSent(e);

    public static ContactDeliveryLog Apply(TriggerMatched e, ContactDeliveryLog log) =>
        log.WithEntry(new TriggerEntry(e.Rule.Name, e.TriggeringEvent.OccurredAt));

    public static ContactDeliveryLog Apply(MessageSent e, ContactDeliveryLog log) => log.WithSent(e);

    public static ContactDeliveryLog Create(MessageWithheld e) => new ContactDeliveryLog(e.ContactId, [], []).WithWithheld(e);

    public static ContactDeliveryLog Apply(MessageWithheld e, ContactDeliveryLog log) => log.WithWithheld(e);

    public static ContactDeliveryLog Apply(ConversionAttributed e, ContactDeliveryLog log) => log.WithConversion(e.MessageId);

    public static ContactDeliveryLog Apply(ControlGroupConverted e, ContactDeliveryLog log) => log.WithConversion(e.MessageId);
}
