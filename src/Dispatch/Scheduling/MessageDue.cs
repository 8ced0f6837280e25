using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using Marten;
using NodaTime;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Scheduling;

/// <summary>Durable, delayed: fires when a scheduled message's wait is over.</summary>
public sealed record MessageDue(Guid ContactId, Guid MessageId, Instant DueAt);

/// <summary>Reacts to <see cref="MessageScheduled"/> (published from the event store) by starting the durable wait.</summary>
public static class MessageScheduledHandler
{
    // The wait is a delay from the injected clock's now, not an absolute wall-clock time, so a FakeClock
    // set to any date drives it the same way the system clock does.
    public static DeliveryMessage<MessageDue> Handle(MessageScheduled scheduled, IClock clock)
    {
        var wait = scheduled.DueAt - clock.GetCurrentInstant();
        return new MessageDue(scheduled.ContactId, scheduled.MessageId, scheduled.DueAt)
            .DelayedFor(wait > Duration.Zero ? wait.ToTimeSpan() : TimeSpan.Zero);
    }
}

/// <summary>Ends the wait by recording <see cref="MessageBecameDue"/> on the contact's stream, once.</summary>
public static class MessageDueHandler
{
    public static async Task Handle(MessageDue due, IDocumentSession session, IClock clock, CancellationToken cancellation)
    {
        var message = await session.LoadAsync<ScheduledMessage>(due.MessageId, cancellation);
        // A redelivered MessageDue (retry, restart) finds the wait already ended and changes nothing.
        if (message is null || message.Status != ScheduledMessageStatus.Scheduled) return;

        session.Events.Append(due.ContactId,
            new MessageBecameDue(due.ContactId, due.MessageId, due.DueAt, clock.GetCurrentInstant()));
    }
}
