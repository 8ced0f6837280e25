using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using Marten;
using NodaTime;
using Wolverine;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;

namespace EventSourcedJourneys.Dispatch.Scheduling;

/// <summary>
/// The checks a message passes when its wait is over (<see cref="DueDecisions"/>), with the workspace's settings
/// filled in, and their outcome recorded: the events of a decision not to send (yet), or the message handed to delivery.
/// Used when a delayed message falls due, and by the trigger engine for a message due the moment it is scheduled.
/// <paramref name="decidedUnder"/> (in <c>DecideAsync</c>) is the trigger version live now: every decision names it, and a
/// message cleared to send carries it to its delivery attempts.
/// </summary>
public static class DueCheck
{
    public static async Task DecideAsync(IDocumentSession session, PendingMessage pending, CompiledTrigger? trigger,
        RuleVersionRef? decidedUnder, WorkspacePolicies policies, ContactFacts facts, DeliveryHistory history, IWorkspaceSettings settings, DateTimeZone workspaceZone,
        Instant now, OutgoingMessages outgoing, CancellationToken cancellation)
    {
        var message = pending.Scheduled;
        var reach = message.Channel == Channel.Webhook && await settings.WebhookUrlOfAsync(session.TenantId, cancellation) is { } url
            ? facts.Reach with { Addresses = new Dictionary<Channel, string>(facts.Reach.Addresses) { [Channel.Webhook] = url } }
            : facts.Reach;

        var outcome = DueDecisions.OnDue(pending, trigger, decidedUnder, policies, facts.Snapshot, facts.Events, history, reach,
            facts.TimeZone ?? workspaceZone, workspaceZone, session.TenantId, now);

        switch (outcome)
        {
            case NotSentNow notSent:
                session.Events.Append(message.ContactId, notSent.Events.Cast<object>().ToArray());
                break;
            case ClearedToSend cleared:
                outgoing.Add(new DeliverMessage(message.ContactId, message.MessageId, cleared.Channel, cleared.Address, Attempt: 1, decidedUnder));
                break;
        }
    }

    /// <summary>
    /// A trigger's message whose due time is its scheduling instant (no wait) is checked by the trigger engine in the
    /// same transaction that schedules it, so no delayed <see cref="MessageDue"/> is started for it.
    /// </summary>
    public static bool IsDecidedOnScheduling(MessageScheduled scheduled) => scheduled.Rule is not null && scheduled.DueAt <= scheduled.ScheduledAt;
}
