using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using NodaTime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;

namespace EventSourcedJourneys.Dispatch.Preview;

/// <summary>What a preview runs: the compiled draft (with the workspace's other rules it refers to), the triggers it
/// previews, the range of events it replays and how far in time it follows their messages.</summary>
/// <param name="Triggers">The draft's triggers by name, with the version reference their decisions carry.</param>
/// <param name="Horizon">Messages due after this instant (the moment the preview started) are reported as pending.</param>
/// <param name="WorkspaceWebhook">The endpoint <c>webhook</c> messages go to, if the workspace has one.</param>
public sealed record PreviewPlan(
    CompiledDocument Document,
    IReadOnlyDictionary<string, RuleVersionRef> Triggers,
    Instant From,
    Instant To,
    Instant Horizon,
    DateTimeZone WorkspaceZone,
    string? WorkspaceWebhook = null,
    string Workspace = "");

public enum PreviewOutcome
{
    Sent,
    Cancelled,
    Suppressed,
    Pending,

    /// <summary>Held out: the contact is in the trigger's control group.</summary>
    Withheld,
}

/// <summary>One message the draft would have scheduled, and what became of it.</summary>
public sealed record SimulatedMessage(
    Guid MessageId,
    string Trigger,
    Instant EntryAt,
    Instant DueAt,
    PreviewOutcome Outcome,
    SuppressionReason? Reason,
    int Reschedules,
    Instant? DecidedAt,
    bool Scheduled = true);

/// <summary>One person's part of a preview: how often they entered the draft's triggers, and the messages.</summary>
public sealed record ContactSimulation(Guid ContactId, int Entries, IReadOnlyList<SimulatedMessage> Messages);

/// <summary>
/// A discrete-event simulation of one contact in virtual time, built from the engine's own pure decisions: every event
/// of the range runs through <see cref="TriggerDecisions.OnEvent"/> (identify calls through
/// <see cref="DateTriggerDecisions.OnTraitsChanged"/>) as if the draft had been published at the range's start, each
/// scheduled message runs through <see cref="DueDecisions.OnDue"/> at its due time with the contact's facts as they stood
/// then, holds for send windows are followed, and every message cleared to send is added to an in-memory delivery
/// history that later caps count. Nothing is written anywhere.
/// </summary>
public static class PreviewSimulation
{
    private enum Kind
    {
        Identify = 0,
        Event = 1,
        Due = 2,
    }

    private sealed class Message(PendingMessage pending, string trigger)
    {
        public PendingMessage Pending { get; set; } = pending;
        public string Trigger { get; } = trigger;
        public int Reschedules { get; set; }
        public SimulatedMessage? Outcome { get; set; }
    }

    /// <param name="realReceived">Messages the contact really received (their delivery logs): those of other rules count
    /// for caps as they happened; those of the previewed triggers count only before the range (the draft replaces them).</param>
    public static ContactSimulation Run(PreviewPlan plan, ContactTimeline contact, IReadOnlyList<ReceivedMessage> realReceived,
        IReadOnlyList<TriggerEntry> realEntries)
    {
        bool Kept(string? rule, Instant at) => rule is null || !plan.Triggers.ContainsKey(rule) || at < plan.From;
        var received = realReceived.Where(m => Kept(m.Rule, m.SentAt)).OrderBy(m => m.SentAt).ToList();
        var entries = realEntries.Where(e => Kept(e.Rule, e.EventTime)).ToList();

        DeliveryHistory HistoryAt(Instant now) => new(received.Where(m => m.SentAt <= now).ToList(), entries);

        var queue = new PriorityQueue<(Kind Kind, object Item), (Instant At, Kind Kind, long Order)>();
        foreach (var e in contact.Events)
        {
            if (e.Event.Timestamp >= plan.From && e.Event.Timestamp < plan.To) queue.Enqueue((Kind.Event, e), (e.Event.Timestamp, Kind.Event, e.Ref.Sequence));
        }
        var dateTriggers = plan.Document.DateTriggers.Where(t => plan.Triggers.ContainsKey(t.Name)).ToList();
        if (dateTriggers.Count > 0)
        {
            // Publishing a date trigger plans the reminders of contacts who already carry the date (DateReminderBackfill).
            queue.Enqueue((Kind.Identify, new EventRef(Guid.Empty, 0, "published", plan.From)), (plan.From, Kind.Identify, -1));
            foreach (var identify in contact.Identifies)
            {
                if (identify.OccurredAt >= plan.From && identify.OccurredAt < plan.To)
                    queue.Enqueue((Kind.Identify, identify), (identify.OccurredAt, Kind.Identify, identify.Sequence));
            }
        }

        var messages = new List<Message>();
        var settledAtEntry = new List<SimulatedMessage>();
        var scheduledIds = new HashSet<Guid>();
        var entered = 0;
        long order = 0;

        void Record(IReadOnlyList<IMessageEvent> decided, string trigger, Instant now)
        {
            foreach (var matched in decided.OfType<TriggerMatched>())
            {
                entered++;
                entries.Add(new TriggerEntry(matched.Rule.Name, matched.TriggeringEvent.OccurredAt));
            }
            if (decided.OfType<MessageScheduled>().FirstOrDefault() is { } scheduled)
            {
                if (!scheduledIds.Add(scheduled.MessageId)) return;
                var message = new Message(new PendingMessage(scheduled, scheduled.EntryAt ?? scheduled.ScheduledAt), trigger);
                messages.Add(message);
                queue.Enqueue((Kind.Due, message), (scheduled.DueAt, Kind.Due, order++));
            }
            else if (decided.OfType<MessageSuppressed>().FirstOrDefault() is { } suppressed)
            {
                // Re-eligibility: the entry is recorded and its message suppressed at once.
                var entryAt = decided.OfType<TriggerMatched>().First().TriggeringEvent.OccurredAt;
                settledAtEntry.Add(new SimulatedMessage(suppressed.MessageId, trigger, entryAt, now, PreviewOutcome.Suppressed, suppressed.Reason, 0, now,
                    Scheduled: false));
            }
        }

        while (queue.TryDequeue(out var next, out var key))
        {
            var now = key.At;
            switch (next.Kind)
            {
                case Kind.Event:
                {
                    var candidate = (ContactEvent)next.Item;
                    var facts = contact.AsOf(now);
                    foreach (var trigger in plan.Document.TriggersOnEvent(candidate.Event.Name))
                    {
                        if (!plan.Triggers.TryGetValue(trigger.Name, out var version)) continue;
                        var decided = TriggerDecisions.OnEvent(trigger, version, plan.From, contact.ContactId, candidate, facts.Snapshot,
                            HistoryAt(now), plan.WorkspaceZone, TriggerEngine.MessageIdFor(version, candidate.Ref.EventId), now);
                        Record(decided, trigger.Name, now);
                    }
                    break;
                }
                case Kind.Identify:
                {
                    var identify = (EventRef)next.Item;
                    var facts = contact.AsOf(now);
                    var change = new ContactEvent(identify, new Dsl.Runtime.RecordedEvent(identify.Name, identify.OccurredAt));
                    foreach (var trigger in dateTriggers)
                    {
                        var version = plan.Triggers[trigger.Name];
                        var zone = DateTriggerDecisions.ZoneFor(trigger.OnDate!, facts.TimeZone ?? plan.WorkspaceZone, plan.WorkspaceZone);
                        var decided = DateTriggerDecisions.OnTraitsChanged(trigger, version, contact.ContactId, change, facts.Snapshot, zone,
                            scheduledIds.Contains, now);
                        foreach (var group in decided.GroupBy(e => e.MessageId)) Record(group.ToList(), trigger.Name, now);
                    }
                    break;
                }
                case Kind.Due:
                {
                    var message = (Message)next.Item;
                    if (now > plan.Horizon)
                    {
                        Settle(message, PreviewOutcome.Pending, null, null);
                        break;
                    }
                    var facts = contact.AsOf(now);
                    // As the live engine does: webhooks go to the workspace's endpoint.
                    var reach = message.Pending.Scheduled.Channel == Channel.Webhook && plan.WorkspaceWebhook is { } url
                        ? facts.Reach with { Addresses = new Dictionary<Channel, string>(facts.Reach.Addresses) { [Channel.Webhook] = url } }
                        : facts.Reach;
                    var outcome = DueDecisions.OnDue(message.Pending, plan.Document.FindTrigger(message.Trigger),
                        plan.Triggers.GetValueOrDefault(message.Trigger), plan.Document.Policies,
                        facts.Snapshot, facts.Events, HistoryAt(now), reach, facts.TimeZone ?? plan.WorkspaceZone, plan.WorkspaceZone, plan.Workspace, now);
                    switch (outcome)
                    {
                        case NotSentNow { Rescheduled: { } held }:
                            message.Reschedules++;
                            message.Pending = message.Pending with { Scheduled = message.Pending.Scheduled with { DueAt = held.To } };
                            queue.Enqueue((Kind.Due, message), (held.To, Kind.Due, order++));
                            break;
                        case NotSentNow notSent when notSent.Events.OfType<MessageWithheld>().Any():
                            Settle(message, PreviewOutcome.Withheld, null, now);
                            break;
                        case NotSentNow notSent when notSent.Events.OfType<MessageCancelled>().Any():
                            Settle(message, PreviewOutcome.Cancelled, null, now);
                            break;
                        case NotSentNow notSent:
                            Settle(message, PreviewOutcome.Suppressed, notSent.Events.OfType<MessageSuppressed>().FirstOrDefault()?.Reason, now);
                            break;
                        case ClearedToSend:
                            Settle(message, PreviewOutcome.Sent, null, now);
                            var scheduled = message.Pending.Scheduled;
                            received.Add(new ReceivedMessage(scheduled.MessageId, scheduled.Rule?.Name, scheduled.Transactional, now));
                            break;
                    }
                    break;
                }
            }
        }

        var outcomes = messages.Select(m => m.Outcome!).Concat(settledAtEntry).OrderBy(m => m.EntryAt).ToList();
        return new ContactSimulation(contact.ContactId, entered, outcomes);
    }

    private static void Settle(Message message, PreviewOutcome outcome, SuppressionReason? reason, Instant? decidedAt)
    {
        var scheduled = message.Pending.Scheduled;
        message.Outcome = new SimulatedMessage(scheduled.MessageId, message.Trigger, message.Pending.EntryAt, scheduled.DueAt, outcome, reason,
            message.Reschedules, decidedAt);
    }
}
