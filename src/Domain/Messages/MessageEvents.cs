using NodaTime;

namespace EventSourcedJourneys.Domain.Messages;

/// <summary>Something that happened to one message addressed to a contact; appended to the contact's stream.</summary>
public interface IMessageEvent
{
    Guid ContactId { get; }
    Guid MessageId { get; }
}

/// <summary>A message was scheduled for a contact, to become due at <paramref name="DueAt"/>.</summary>
public sealed record MessageScheduled(
    Guid ContactId,
    Guid MessageId,
    Channel Channel,
    string Template,
    Instant ScheduledAt,
    Instant DueAt) : IMessageEvent;

/// <summary>The durable wait of a scheduled message ended; the delivery checks run from here.</summary>
public sealed record MessageBecameDue(
    Guid ContactId,
    Guid MessageId,
    Instant DueAt,
    Instant BecameDueAt) : IMessageEvent;
