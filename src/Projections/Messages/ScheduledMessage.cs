using EventSourcedJourneys.Domain.Messages;
using Marten.Events.Projections;
using NodaTime;

namespace EventSourcedJourneys.Projections.Messages;

public enum ScheduledMessageStatus
{
    Scheduled,
    Due,
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
    Instant? BecameDueAt);

public sealed partial class ScheduledMessageProjection : MultiStreamProjection<ScheduledMessage, Guid>
{
    public ScheduledMessageProjection()
    {
        Identity<IMessageEvent>(e => e.MessageId);
    }

    public static ScheduledMessage Create(MessageScheduled e) =>
        new(e.MessageId, e.ContactId, e.Channel, e.Template, ScheduledMessageStatus.Scheduled, e.ScheduledAt, e.DueAt, null);

    public static ScheduledMessage Apply(MessageBecameDue e, ScheduledMessage message) =>
        message with { Status = ScheduledMessageStatus.Due, BecameDueAt = e.BecameDueAt };
}
