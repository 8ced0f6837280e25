using System.Text.Json;
using EventSourcedJourneys.Dispatch.Channels;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using Marten;
using NodaTime;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Delivery;

/// <summary>Where a template finds the contact's traits and the triggering event's JSON.</summary>
public interface ITemplateFacts
{
    Task<(JsonElement? Traits, JsonElement? Context, DateTimeZone? Zone)> ContactAsync(IQuerySession session, Guid contactId,
        CancellationToken cancellation);
}

/// <summary>
/// Renders a cleared message and hands it to its channel, once: a message already sent, failed for good, or whose
/// attempt was already recorded is left alone, and every attempt carries the same idempotency key to the provider.
/// Transient failures are retried with growing delays; each attempt is a <see cref="MessageFailed"/> or the
/// <see cref="MessageSent"/>.
/// </summary>
public static class DeliverMessageHandler
{
    public const int MaxAttempts = 5;

    private static readonly Duration[] Backoff =
        [Duration.FromMinutes(1), Duration.FromMinutes(5), Duration.FromMinutes(30), Duration.FromHours(2)];

    public static async Task<OutgoingMessages> Handle(DeliverMessage command, IDocumentSession session, TemplateRenderer renderer,
        ChannelDispatcher channels, ITemplateFacts facts, IClock clock, CancellationToken cancellation)
    {
        var outgoing = new OutgoingMessages();
        var message = await session.LoadAsync<ScheduledMessage>(command.MessageId, cancellation);
        if (message is null || message.Status is ScheduledMessageStatus.Sent or ScheduledMessageStatus.Failed
                or ScheduledMessageStatus.Cancelled or ScheduledMessageStatus.Suppressed
            || message.Attempts >= command.Attempt)
        {
            return outgoing;
        }

        var now = clock.GetCurrentInstant();
        var contact = await facts.ContactAsync(session, command.ContactId, cancellation);
        var triggering = message.TriggeringEvent is { } reference ? await TriggeringEventAsync(session, reference, cancellation) : null;
        var model = new TemplateModel(message.Id, message.ContactId, session.TenantId, now, contact.Traits, triggering, contact.Context, contact.Zone);

        switch (await renderer.RenderAsync(session, message.Channel, message.Template, model, cancellation))
        {
            case RenderOutcome.Failed failed:
                session.Events.Append(command.ContactId, new MessageFailed(command.ContactId, command.MessageId, message.Channel,
                    failed.Failure.ToString(), command.Attempt, Permanent: true, now, DecidedUnder(message, command), message.TriggeringEvent));
                return outgoing;

            case RenderOutcome.Rendered { Content: var content } when message.Channel == Channel.InApp:
                session.Events.Append(command.ContactId,
                    new InboxMessageDelivered(command.ContactId, command.MessageId, message.Template, content.Title ?? content.Subject,
                        content.Body, content.Data, now, DecidedUnder(message, command), message.TriggeringEvent),
                    Sent(message, command, $"inbox:{command.MessageId:N}", now));
                return outgoing;

            case RenderOutcome.Rendered { Content: var content }:
                var attempt = await channels.SendAsync(new OutgoingMessage(command.MessageId, OutgoingMessage.IdempotencyKeyFor(command.MessageId),
                    session.TenantId, command.ContactId, command.Address, content, message.DueAt), cancellation);
                // Sent: from here on a lost race with ingestion's append would mean sending again on the retry.
                await ContactStreamLock.TakeAsync(session, command.ContactId, cancellation);
                Record(attempt, message, command, session, outgoing, now);
                return outgoing;
        }
        return outgoing;
    }

    private static void Record(DeliveryAttempt attempt, ScheduledMessage message, DeliverMessage command, IDocumentSession session,
        OutgoingMessages outgoing, Instant now)
    {
        switch (attempt)
        {
            case DeliveryAttempt.Sent sent:
                session.Events.Append(command.ContactId, Sent(message, command, sent.ProviderMessageId, now));
                break;
            case DeliveryAttempt.PermanentFailure permanent:
                session.Events.Append(command.ContactId, new MessageFailed(command.ContactId, command.MessageId, message.Channel,
                    permanent.Reason, command.Attempt, Permanent: true, now, DecidedUnder(message, command), message.TriggeringEvent));
                break;
            case DeliveryAttempt.TransientFailure transient when command.Attempt >= MaxAttempts:
                session.Events.Append(command.ContactId, new MessageFailed(command.ContactId, command.MessageId, message.Channel,
                    $"gave up after {MaxAttempts} attempts: {transient.Reason}", command.Attempt, Permanent: true, now, DecidedUnder(message, command),
                    message.TriggeringEvent));
                break;
            case DeliveryAttempt.TransientFailure transient:
                session.Events.Append(command.ContactId, new MessageFailed(command.ContactId, command.MessageId, message.Channel,
                    transient.Reason, command.Attempt, Permanent: false, now, DecidedUnder(message, command), message.TriggeringEvent));
                var wait = transient.RetryAfter ?? Backoff[Math.Min(command.Attempt, Backoff.Length) - 1];
                outgoing.Add((command with { Attempt = command.Attempt + 1 }).DelayedFor(wait.ToTimeSpan()));
                break;
        }
    }

    private static MessageSent Sent(ScheduledMessage message, DeliverMessage command, string providerId, Instant now) =>
        new(command.ContactId, command.MessageId, message.Channel, providerId, command.Attempt, now, message.Rule, message.Transactional,
            message.RuleVersionRef, DecidedUnder(message, command), message.TriggeringEvent);

    // A command queued before it carried the version it was cleared under falls back to the one that scheduled the message.
    private static RuleVersionRef? DecidedUnder(ScheduledMessage message, DeliverMessage command) => command.DecidedUnder ?? message.RuleVersionRef;

    private static async Task<TemplateEvent?> TriggeringEventAsync(IQuerySession session, EventRef reference, CancellationToken cancellation)
    {
        // By its sequence (the events table's primary key); Marten keeps no index on event ids, so loading by id
        // scans the whole store. The id is checked, and an event recorded without its sequence is loaded by id.
        var stored = reference.Sequence > 0
            ? await session.Events.QueryAllRawEvents().Where(e => e.Sequence == reference.Sequence).SingleOrDefaultAsync(cancellation)
            : null;
        if (stored is null || stored.Id != reference.EventId) stored = await session.Events.LoadAsync(reference.EventId, cancellation);
        if (stored?.Data is null) return new TemplateEvent(reference.Name, null, reference.OccurredAt);
        var json = JsonSerializer.SerializeToElement(stored.Data, stored.Data.GetType(), EventSourcedJourneys.Domain.Time.JourneysJson.Create());
        return new TemplateEvent(reference.Name, json.TryGetProperty("properties", out var properties) ? properties : null, reference.OccurredAt);
    }
}
