using EventSourcedJourneys.Domain.Messages;
using Marten.Events.Projections;
using NodaTime;

namespace EventSourcedJourneys.Projections.Messages;

public enum ScheduledMessageStatus
{
    Scheduled,
    Rescheduled,
    Cancelled,
    Suppressed,
    Sent,
    Failed,

    /// <summary>Held out: the contact is in the trigger's control group.</summary>
    Withheld,
}

/// <summary>One message and where it stands, as an analyst or support engineer reads it.</summary>
public sealed record ScheduledMessage(
    Guid Id,
    Guid ContactId,
    Channel Channel,
    string Template,
    ScheduledMessageStatus Status,
    Instant ScheduledAt,
    Instant DueAt,
    string? Rule = null,
    int? RuleVersion = null,
    bool Transactional = false,
    string? Reason = null,
    string? ProviderMessageId = null,
    int Attempts = 0,
    Instant? UpdatedAt = null,
    string? RuleHash = null,
    Instant? EntryAt = null,
    EventRef? TriggeringEvent = null)
{
    /// <summary>Still waiting for its due time (first wait, or held for a send window).</summary>
    public bool IsWaiting => Status is ScheduledMessageStatus.Scheduled or ScheduledMessageStatus.Rescheduled;

    /// <summary>The scheduling event again, as the delivery decisions take it.</summary>
    public MessageScheduled AsScheduled() => new(ContactId, Id, Channel, Template, ScheduledAt, DueAt,
        Rule is null ? null : new RuleVersionRef(Rule, RuleVersion ?? 0, RuleHash ?? ""), Transactional, EntryAt, TriggeringEvent);

    public RuleVersionRef? RuleVersionRef => Rule is null ? null : new RuleVersionRef(Rule, RuleVersion ?? 0, RuleHash ?? "");
}

public sealed partial class ScheduledMessageProjection : MultiStreamProjection<ScheduledMessage, Guid>
{
    public ScheduledMessageProjection()
    {
        Identity<IMessageEvent>(e => e.MessageId);
    }

    public static ScheduledMessage Create(MessageScheduled e) =>
        new(e.MessageId, e.ContactId, e.Channel, e.Template, ScheduledMessageStatus.Scheduled, e.ScheduledAt, e.DueAt,
            e.Rule?.Name, e.Rule?.Version, e.Transactional, UpdatedAt: e.ScheduledAt, RuleHash: e.Rule?.ContentHash, EntryAt: e.EntryAt,
            TriggeringEvent: e.TriggeringEvent);

    public static ScheduledMessage Apply(MessageRescheduled e, ScheduledMessage message) =>
        message with { Status = ScheduledMessageStatus.Rescheduled, DueAt = e.To, Reason = $"outside the send window {e.Window} ({e.Zone})", UpdatedAt = e.DecidedAt };

    public static ScheduledMessage Apply(MessageCancelled e, ScheduledMessage message) =>
        message with { Status = ScheduledMessageStatus.Cancelled, Reason = $"cancelled by '{e.CancellingEvent.Name}' at {e.CancellingEvent.OccurredAt}", UpdatedAt = e.DecidedAt };

    public static ScheduledMessage Apply(MessageSuppressed e, ScheduledMessage message) =>
        message with { Status = ScheduledMessageStatus.Suppressed, Reason = e.Detail, UpdatedAt = e.DecidedAt };

    public static ScheduledMessage Apply(MessageWithheld e, ScheduledMessage message) =>
        message with { Status = ScheduledMessageStatus.Withheld, Reason = e.Detail, UpdatedAt = e.DecidedAt };

    public static ScheduledMessage Apply(MessageSent e, ScheduledMessage message) =>
        message with { Status = ScheduledMessageStatus.Sent, ProviderMessageId = e.ProviderMessageId, Attempts = e.Attempt, UpdatedAt = e.SentAt };

    public static ScheduledMessage Apply(MessageFailed e, ScheduledMessage message) =>
        message with
        {
            Status = e.Permanent ? ScheduledMessageStatus.Failed : message.Status,
            Reason = e.Reason,
            Attempts = e.Attempt,
            UpdatedAt = e.FailedAt,
        };
}
