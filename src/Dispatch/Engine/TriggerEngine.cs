using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using Marten;
using NodaTime;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>Claims a message id once: the database refuses a second claim, so no trigger entry is ever recorded twice.</summary>
public sealed record MessageClaim(Guid Id, Instant ClaimedAt);

/// <summary>
/// Runs one ingested event of a contact through the workspace's published triggers (only those indexed under the
/// event's name, so unrelated rules cost nothing) and appends the decisions to the contact's stream. A message due at
/// once (no wait) is checked in the same step (<see cref="DueCheck"/>) and handed straight to delivery.
/// </summary>
public sealed class TriggerEngine(LiveRules live, IContactFacts contacts, IWorkspaceSettings zones, IClock clock)
{
    private static readonly Guid MessageNamespace = Guid.Parse("2b0f7d3e-9d6c-4d1e-8f6f-6a1d4c0b9e55");

    /// <summary>One message per (rule version, triggering event, step): retries and races compute the same id.</summary>
    public static Guid MessageIdFor(RuleVersionRef rule, Guid triggeringEventId, int step = 1) =>
        DeterministicGuid.Create(MessageNamespace, $"{rule.Name}/{rule.Version}/{triggeringEventId:N}/{step}");

    public async Task<OutgoingMessages> EvaluateAsync(IDocumentSession session, Guid contactId, EventRef triggering, CancellationToken cancellation)
    {
        var outgoing = new OutgoingMessages();
        var rules = await live.ForWorkspaceAsync(session.TenantId, cancellation);
        var triggers = rules.Document.TriggersOnEvent(triggering.Name);
        var isGoal = rules.Document.Triggers.Any(t => t.Goal?.Event.EventName == triggering.Name);
        if (triggers.Count == 0 && !isGoal) return outgoing;

        var log = await session.LoadAsync<ContactDeliveryLog>(contactId, cancellation);
        if (triggers.Count == 0 && (log is null || log.OpenGoals.Count == 0)) return outgoing;

        var facts = await contacts.LoadAsync(session, contactId, cancellation);
        var candidate = facts.Events.FirstOrDefault(e => e.Ref.EventId == triggering.EventId);
        if (candidate is null) return outgoing;

        var now = clock.GetCurrentInstant();
        if (isGoal && log is not null)
        {
            var conversions = GoalDecisions.OnEvent(contactId, candidate, facts.Snapshot, log.OpenGoals,
                name => rules.Document.FindTrigger(name)?.Goal, now);
            if (conversions.Count > 0)
            {
                session.Events.Append(contactId, conversions.Cast<object>().ToArray());
            }
        }

        var history = log?.History ?? DeliveryHistory.Empty;
        var workspaceZone = triggers.Count == 0 ? DateTimeZone.Utc : await zones.ZoneOfAsync(session.TenantId, cancellation);

        foreach (var trigger in triggers)
        {
            if (!rules.Rules.TryGetValue(trigger.Name, out var rule) || rule.Paused) continue;
            var version = new RuleVersionRef(rule.Name, rule.Version, rule.ContentHash);
            var messageId = MessageIdFor(version, triggering.EventId);
            var decided = TriggerDecisions.OnEvent(trigger, version, rule.PublishedAt, contactId, candidate, facts.Snapshot, history,
                workspaceZone, messageId, now);
            if (decided.Count == 0) continue;
            if (await session.LoadAsync<MessageClaim>(messageId, cancellation) is not null) continue; // already decided

            session.Insert(new MessageClaim(messageId, now));
            session.Events.Append(contactId, decided.Cast<object>().ToArray());
            await CheckIfDueAsync(session, decided, trigger, rules, facts, history, workspaceZone, now, outgoing, cancellation);
        }
        return outgoing;
    }

    /// <summary>After the contact's traits changed: schedules the reminders of live date triggers still ahead, once each.</summary>
    public async Task<OutgoingMessages> PlanDateRemindersAsync(IDocumentSession session, Guid contactId, EventRef traitsChange,
        CancellationToken cancellation)
    {
        var outgoing = new OutgoingMessages();
        var rules = await live.ForWorkspaceAsync(session.TenantId, cancellation);
        if (rules.Document.DateTriggers.Count == 0) return outgoing;

        var facts = await contacts.LoadAsync(session, contactId, cancellation);
        var workspaceZone = await zones.ZoneOfAsync(session.TenantId, cancellation);
        var change = new ContactEvent(traitsChange, new Dsl.Runtime.RecordedEvent(traitsChange.Name, traitsChange.OccurredAt));
        var now = clock.GetCurrentInstant();
        DeliveryHistory? history = null;
        foreach (var trigger in rules.Document.DateTriggers)
        {
            if (!rules.Rules.TryGetValue(trigger.Name, out var rule) || rule.Paused) continue;
            var version = new RuleVersionRef(rule.Name, rule.Version, rule.ContentHash);
            var zone = DateTriggerDecisions.ZoneFor(trigger.OnDate!, facts.TimeZone ?? workspaceZone, workspaceZone);
            var candidates = DateTriggerDecisions.OnTraitsChanged(trigger, version, contactId, change, facts.Snapshot, zone, _ => false, now);
            foreach (var group in candidates.GroupBy(e => e.MessageId))
            {
                if (await session.LoadAsync<MessageClaim>(group.Key, cancellation) is not null) continue;
                session.Insert(new MessageClaim(group.Key, now));
                session.Events.Append(contactId, group.Cast<object>().ToArray());
                if (group.OfType<MessageScheduled>().Any(DueCheck.IsDecidedOnScheduling))
                {
                    history ??= (await session.LoadAsync<ContactDeliveryLog>(contactId, cancellation))?.History ?? DeliveryHistory.Empty;
                    await CheckIfDueAsync(session, group.ToList(), trigger, rules, facts, history, workspaceZone, now, outgoing, cancellation);
                }
            }
        }
        return outgoing;
    }

    /// <summary>A message scheduled to go at once is checked now, in the transaction that schedules it: its outcome is
    /// appended after the scheduling, or it leaves for delivery once that transaction commits.</summary>
    private async Task CheckIfDueAsync(IDocumentSession session, IReadOnlyList<IMessageEvent> decided, Dsl.Compilation.CompiledTrigger trigger,
        LiveRuleSnapshot rules, ContactFacts facts, DeliveryHistory history, DateTimeZone workspaceZone, Instant now,
        OutgoingMessages outgoing, CancellationToken cancellation)
    {
        foreach (var scheduled in decided.OfType<MessageScheduled>().Where(DueCheck.IsDecidedOnScheduling))
        {
            await DueCheck.DecideAsync(session, new PendingMessage(scheduled, scheduled.EntryAt ?? scheduled.ScheduledAt), trigger,
                scheduled.Rule, rules.Document.Policies, facts, history, zones, workspaceZone, now, outgoing, cancellation);
        }
    }
}
