using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Audit;

/// <summary>
/// One line of the audit export (docs/audit.md): a recorded decision, with the rule version it was made under. Field
/// names are stable; new fields may be added, none renamed or removed.
/// </summary>
public sealed record AuditLine(
    long Sequence,
    Guid EventId,
    string Type,
    Guid ContactId,
    Guid MessageId,
    Instant DecidedAt,
    string? Rule,
    int? RuleVersion,
    string? RuleHash,
    object Data,
    bool? Reproduced = null);

public static class AuditExport
{
    /// <summary>Whether the replay of each decision (by the sequence of its events) reproduced it, for the messages of
    /// <paramref name="explanations"/>; a clearance counts for the first delivery attempt it is replayed at.</summary>
    public static IReadOnlyDictionary<long, bool> Verdicts(IEnumerable<MessageExplanation> explanations)
    {
        var verdicts = new Dictionary<long, bool>();
        foreach (var decision in explanations.SelectMany(e => e.Decisions))
        {
            if (decision.Replay is not { } replay) continue;
            if (decision.Recorded.Count == 0) verdicts[decision.Sequence] = replay.Reproduced;
            foreach (var recorded in decision.Recorded) verdicts[recorded.Sequence] = replay.Reproduced;
        }
        return verdicts;
    }

    /// <summary>The lines of <paramref name="decisions"/> (in log order) decided in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static IEnumerable<AuditLine> Lines(IEnumerable<LoggedEvent> decisions, Instant? from, Instant? to)
    {
        var rules = new Dictionary<Guid, RuleVersionRef>();
        foreach (var e in decisions)
        {
            // Receipts (delivered, opened, clicked…) are what providers reported about a message, not decisions.
            if (e.Data is not IMessageEvent message || e.Data is IMessageReceipt) continue;
            switch (e.Data)
            {
                case TriggerMatched m: rules[m.MessageId] = m.Rule; break;
                case MessageScheduled { Rule: { } r } s: rules[s.MessageId] = r; break;
            }
            var at = DecidedAt(e.Data);
            if (from is { } f && at < f || to is { } t && at >= t) continue;
            // Each decision's own version: at due time the one live then (a republish during the wait changes it). A decision
            // recorded without one (before decisions named it, or once the trigger was archived) shows the version that started the message.
            var rule = (e.Data as IDecisionRecord)?.DecidedUnder ?? rules.GetValueOrDefault(message.MessageId);
            yield return new AuditLine(e.Sequence, e.EventId, DecisionReplay.TypeName(e.Data), message.ContactId, message.MessageId, at, rule?.Name,
                rule?.Version, rule?.ContentHash, e.Data);
        }
    }

    public static Instant DecidedAt(object decision) => decision switch
    {
        TriggerMatched e => e.MatchedAt,
        MessageScheduled e => e.ScheduledAt,
        MessageRescheduled e => e.DecidedAt,
        MessageCancelled e => e.DecidedAt,
        MessageSuppressed e => e.DecidedAt,
        MessageSent e => e.SentAt,
        MessageFailed e => e.FailedAt,
        ConversionAttributed e => e.DecidedAt,
        MessageWithheld e => e.DecidedAt,
        ControlGroupConverted e => e.DecidedAt,
        InboxMessageDelivered e => e.DeliveredAt,
        InboxMessageRead e => e.ReadAt,
        _ => throw new ArgumentOutOfRangeException(nameof(decision), decision.GetType().Name, null),
    };
}
