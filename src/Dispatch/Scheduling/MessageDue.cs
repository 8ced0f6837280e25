using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using Marten;
using NodaTime;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Scheduling;

/// <summary>Durable, delayed: fires when a message's wait (or its hold for a send window) is over. Started by the
/// <see cref="Engine.ReactionsRelay"/> for every <see cref="MessageScheduled"/> not decided at once and every
/// <see cref="MessageRescheduled"/>.</summary>
public sealed record MessageDue(Guid ContactId, Guid MessageId, Instant DueAt) : IContactMessage;

/// <summary>Cleared by every check: hand the message to its channel. <paramref name="DecidedUnder"/> is the trigger version
/// live when it was cleared (null for a message scheduled through the API, and on commands queued before it was carried).</summary>
public sealed record DeliverMessage(Guid ContactId, Guid MessageId, Channel Channel, string Address, int Attempt,
    RuleVersionRef? DecidedUnder = null) : IContactMessage;

/// <summary>
/// When the wait is over: the delivery decisions (exception events, audience, send window, caps, address,
/// consent) run on the contact's facts now, and their outcome is appended — or the message goes to its channel.
/// </summary>
public static class MessageDueHandler
{
    public static async Task<OutgoingMessages> Handle(MessageDue due, IDocumentSession session, LiveRules live, IContactFacts contacts,
        IWorkspaceSettings zones, IClock clock, CancellationToken cancellation)
    {
        var outgoing = new OutgoingMessages();
        var message = await session.LoadAsync<ScheduledMessage>(due.MessageId, cancellation);
        // A redelivered or superseded MessageDue (retry, restart, a later reschedule) finds nothing left to do.
        if (message is null || !message.IsWaiting || message.DueAt != due.DueAt) return outgoing;

        await ContactStreamLock.TakeAsync(session, due.ContactId, cancellation);
        var now = clock.GetCurrentInstant();
        var rules = await live.ForWorkspaceAsync(session.TenantId, cancellation);
        // A message scheduled through the API has no trigger: it skips the trigger's checks, not the workspace's.
        var current = message.Rule is { } name && rules.Rules.TryGetValue(name, out var rule) ? rule : null;
        var trigger = current is { Paused: false } ? rules.Document.FindTrigger(current.Name) : null;
        // The version live now, which a republish during the wait may have made differ from the one that scheduled it.
        var decidedUnder = current is null ? null : new RuleVersionRef(current.Name, current.Version, current.ContentHash);
        var facts = await contacts.LoadAsync(session, due.ContactId, cancellation);
        var history = (await session.LoadAsync<ContactDeliveryLog>(due.ContactId, cancellation))?.History ?? DeliveryHistory.Empty;
        var workspaceZone = await zones.ZoneOfAsync(session.TenantId, cancellation);
        await DueCheck.DecideAsync(session, new PendingMessage(message.AsScheduled(), message.EntryAt ?? message.ScheduledAt), trigger,
            decidedUnder, rules.Document.Policies, facts, history, zones, workspaceZone, now, outgoing, cancellation);
        return outgoing;
    }
}
