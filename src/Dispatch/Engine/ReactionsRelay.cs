using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Runtime;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Wolverine;
using Wolverine.Marten.Subscriptions;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// The engine's subscription to the event store (Marten's async daemon, page by page, in store order). It hands a
/// contact's lane only the events a live rule of the contact's workspace can react to, as an
/// <see cref="EvaluateContactEvent"/>; every other event costs no durable message and no handler transaction. It starts
/// the durable wait of a scheduled message itself (a delayed <see cref="MessageDue"/>), and relays nothing for a message
/// the trigger engine already decided when it scheduled it. What it publishes is stored in the transaction that records
/// the page as done (Wolverine's outbox), so nothing is relayed twice or lost.
/// </summary>
public sealed class ReactionsRelay : BatchSubscription
{
    /// <summary>The subscription's name in Marten's progression table (the name of the relay it replaced).</summary>
    public const string Name = "Reactions";

    private readonly IServiceProvider _services;

    public ReactionsRelay(IServiceProvider services) : base(Name)
    {
        _services = services;
        IncludeType<ContactTracked>();
        IncludeType<PageViewed>();
        IncludeType<ScreenViewed>();
        IncludeType<ContactIdentified>();
        IncludeType<ContactMerged>();
        IncludeType<ContactMergedInto>();
        IncludeType<SegmentEntered>();
        IncludeType<SegmentExited>();
        IncludeType<MessageScheduled>();
        IncludeType<MessageRescheduled>();
        IncludeType<RuleVersionPublished>();
    }

    public override async Task ProcessEventsAsync(EventRange page, ISubscriptionController controller, IDocumentOperations operations,
        IMessageBus bus, CancellationToken cancellationToken)
    {
        // Resolved here, not in the constructor: the subscription is built while the document store is, and both need it.
        var live = _services.GetRequiredService<LiveRules>();
        var now = _services.GetRequiredService<IClock>().GetCurrentInstant();
        var rulesOf = new Dictionary<string, LiveRuleSnapshot>(StringComparer.Ordinal);
        foreach (var e in page.Events)
        {
            var delivery = new DeliveryOptions { TenantId = e.TenantId };
            switch (e.Data)
            {
                case MessageScheduled scheduled when DueCheck.IsDecidedOnScheduling(scheduled):
                    break;
                case MessageScheduled scheduled:
                    await bus.PublishAsync(new MessageDue(scheduled.ContactId, scheduled.MessageId, scheduled.DueAt), Wait(delivery, scheduled.DueAt, now));
                    break;
                case MessageRescheduled rescheduled:
                    await bus.PublishAsync(new MessageDue(rescheduled.ContactId, rescheduled.MessageId, rescheduled.To), Wait(delivery, rescheduled.To, now));
                    break;
                case RuleVersionPublished:
                    await bus.PublishAsync(e, delivery);
                    break;
                default:
                    if (!rulesOf.TryGetValue(e.TenantId, out var rules))
                        rulesOf[e.TenantId] = rules = await live.ForWorkspaceAsync(e.TenantId, cancellationToken);
                    if (EvaluateContactEvent.For(e, rules) is { } evaluate) await bus.PublishAsync(evaluate, delivery);
                    break;
            }
        }
    }

    // The wait is a delay from the injected clock's now, not an absolute wall-clock time, so a FakeClock set to any date
    // drives it the same way the system clock does.
    private static DeliveryOptions Wait(DeliveryOptions delivery, Instant dueAt, Instant now)
    {
        var wait = dueAt - now;
        delivery.ScheduleDelay = wait > Duration.Zero ? wait.ToTimeSpan() : TimeSpan.Zero;
        return delivery;
    }
}

/// <summary>What the engine does with a contact's event in the contact's lane.</summary>
public enum ContactEventKind
{
    /// <summary>A tracked call, page or screen view: triggers and goals named after it, then the segments it can change.</summary>
    Activity,

    /// <summary>An identify: the contact's date reminders are planned again and every segment is reviewed.</summary>
    TraitsChanged,

    /// <summary>A merge (the survivor, or the contact absorbed): every segment is reviewed.</summary>
    Merged,

    /// <summary>Entering or leaving a segment: the triggers and goals named <c>entered|exited segment NAME</c>.</summary>
    SegmentChanged,
}

/// <summary>One event of a contact that a live rule can react to, relayed from the store to the contact's lane.
/// <paramref name="Event"/> names the stored event; the engine reads the event itself from the contact's facts.</summary>
public sealed record EvaluateContactEvent(Guid ContactId, ContactEventKind Kind, EventRef Event) : IContactMessage
{
    /// <summary>
    /// The evaluation an event calls for under a workspace's live rules, or null when no live trigger, goal or segment can
    /// react to it. A rule published after this is read only ever sees the event as history (events that happened before
    /// a trigger was published never qualify; a new segment is built from history), so deciding on the rules of now is
    /// exact; the lane checks again when it evaluates.
    /// </summary>
    public static EvaluateContactEvent? For(IEvent e, LiveRuleSnapshot rules)
    {
        var document = rules.Document;
        return e.Data switch
        {
            ContactTracked t => Activity(t.ContactId, new EventRef(e.Id, e.Sequence, t.Event, t.Timestamp), rules),
            PageViewed p => Activity(p.ContactId, new EventRef(e.Id, e.Sequence, "page", p.Timestamp), rules),
            ScreenViewed s => Activity(s.ContactId, new EventRef(e.Id, e.Sequence, "screen", s.Timestamp), rules),
            ContactIdentified i when document.DateTriggers.Count > 0 || document.Segments.Count > 0 =>
                new(i.ContactId, ContactEventKind.TraitsChanged, new EventRef(e.Id, e.Sequence, "identify", i.Timestamp)),
            ContactMerged m when document.Segments.Count > 0 =>
                new(m.ContactId, ContactEventKind.Merged, new EventRef(e.Id, e.Sequence, "merge", m.Timestamp)),
            ContactMergedInto m when document.Segments.Count > 0 =>
                new(m.ContactId, ContactEventKind.Merged, new EventRef(e.Id, e.Sequence, "merge", m.Timestamp)),
            SegmentEntered entered => SegmentChanged(entered.ContactId,
                new EventRef(e.Id, e.Sequence, SegmentChanges.EventName(SegmentChange.Entered, entered.Segment), entered.At), rules),
            SegmentExited exited => SegmentChanged(exited.ContactId,
                new EventRef(e.Id, e.Sequence, SegmentChanges.EventName(SegmentChange.Exited, exited.Segment), exited.At), rules),
            _ => null,
        };
    }

    private static EvaluateContactEvent? Activity(Guid contactId, EventRef e, LiveRuleSnapshot rules) =>
        StartsOrConverts(rules, e.Name) || LiveSegments.Of(rules).Segments.Any(s => SegmentDecisions.CanChangeOn(s, e.Name))
            ? new EvaluateContactEvent(contactId, ContactEventKind.Activity, e)
            : null;

    private static EvaluateContactEvent? SegmentChanged(Guid contactId, EventRef e, LiveRuleSnapshot rules) =>
        StartsOrConverts(rules, e.Name) ? new EvaluateContactEvent(contactId, ContactEventKind.SegmentChanged, e) : null;

    private static bool StartsOrConverts(LiveRuleSnapshot rules, string eventName) =>
        rules.Document.TriggersOnEvent(eventName).Count > 0 || rules.Document.Triggers.Any(t => t.Goal?.Event.EventName == eventName);
}
