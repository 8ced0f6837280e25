using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>Claims a message id once: the database refuses a second claim, so no trigger entry is ever recorded twice.</summary>
public sealed record MessageClaim(Guid Id, Instant ClaimedAt);

/// <summary>
/// Runs one ingested event of a contact through the workspace's published triggers (only those indexed under the
/// event's name, so unrelated rules cost nothing) and appends the decisions to the contact's stream.
/// </summary>
public sealed class TriggerEngine(LiveRules live, IContactFacts contacts, IWorkspaceSettings zones, IClock clock)
{
    private static readonly Guid MessageNamespace = Guid.Parse("2b0f7d3e-9d6c-4d1e-8f6f-6a1d4c0b9e55");

    /// <summary>One message per (rule version, triggering event, step): retries and races compute the same id.</summary>
    public static Guid MessageIdFor(RuleVersionRef rule, Guid triggeringEventId, int step = 1) =>
        DeterministicGuid.Create(MessageNamespace, $"{rule.Name}/{rule.Version}/{triggeringEventId:N}/{step}");

    public async Task<int> EvaluateAsync(IDocumentSession session, Guid contactId, EventRef triggering, CancellationToken cancellation)
    {
        var rules = await live.ForWorkspaceAsync(session.TenantId, cancellation);
        var triggers = rules.Document.TriggersOnEvent(triggering.Name);
        var isGoal = rules.Document.Triggers.Any(t => t.Goal?.Event.EventName == triggering.Name);
        if (triggers.Count == 0 && !isGoal) return 0;

        var log = await session.LoadAsync<ContactDeliveryLog>(contactId, cancellation);
        if (triggers.Count == 0 && (log is null || log.OpenGoals.Count == 0)) return 0;

        var facts = await contacts.LoadAsync(session, contactId, cancellation);
        var candidate = facts.Events.FirstOrDefault(e => e.Ref.EventId == triggering.EventId);
        if (candidate is null) return 0;

        var now = clock.GetCurrentInstant();
        var appended = 0;
        if (isGoal && log is not null)
        {
            var conversions = GoalDecisions.OnEvent(contactId, candidate, facts.Snapshot, log.OpenGoals,
                name => rules.Document.FindTrigger(name)?.Goal, now);
            if (conversions.Count > 0)
            {
                session.Events.Append(contactId, conversions.Cast<object>().ToArray());
                appended += conversions.Count;
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
            appended += decided.Count;
        }
        return appended;
    }

    /// <summary>After the contact's traits changed: schedules the reminders of live date triggers still ahead, once each.</summary>
    public async Task<int> PlanDateRemindersAsync(IDocumentSession session, Guid contactId, EventRef traitsChange, CancellationToken cancellation)
    {
        var rules = await live.ForWorkspaceAsync(session.TenantId, cancellation);
        if (rules.Document.DateTriggers.Count == 0) return 0;

        var facts = await contacts.LoadAsync(session, contactId, cancellation);
        var workspaceZone = await zones.ZoneOfAsync(session.TenantId, cancellation);
        var change = new ContactEvent(traitsChange, new Dsl.Runtime.RecordedEvent(traitsChange.Name, traitsChange.OccurredAt));
        var now = clock.GetCurrentInstant();
        var appended = 0;
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
                appended += group.Count();
            }
        }
        return appended;
    }
}
