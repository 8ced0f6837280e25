using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Runtime;
using JasperFx.Events;
using Marten;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// The engine's entry points, fed in order by the event store's subscription: every tracked event (and page or
/// screen view) runs through the published triggers and goals, then the segments it can change; every identify
/// re-plans date reminders and re-evaluates segments, as does a merge; entering or leaving a segment runs through the
/// triggers started by it.
/// </summary>
public static class ContactEventHandler
{
    public static async Task<OutgoingMessages> Handle(IEvent<ContactTracked> e, IDocumentSession session, TriggerEngine engine,
        SegmentMembership segments, CancellationToken cancellation)
    {
        var outgoing = await engine.EvaluateAsync(session, e.Data.ContactId, new EventRef(e.Id, e.Sequence, e.Data.Event, e.Data.Timestamp), cancellation);
        outgoing.AddRange(await segments.ReviewAsync(session, e.Data.ContactId, e.Data.Event, cancellation));
        return outgoing;
    }

    public static async Task<OutgoingMessages> Handle(IEvent<PageViewed> e, IDocumentSession session, TriggerEngine engine,
        SegmentMembership segments, CancellationToken cancellation)
    {
        var outgoing = await engine.EvaluateAsync(session, e.Data.ContactId, new EventRef(e.Id, e.Sequence, "page", e.Data.Timestamp), cancellation);
        outgoing.AddRange(await segments.ReviewAsync(session, e.Data.ContactId, "page", cancellation));
        return outgoing;
    }

    public static async Task<OutgoingMessages> Handle(IEvent<ScreenViewed> e, IDocumentSession session, TriggerEngine engine,
        SegmentMembership segments, CancellationToken cancellation)
    {
        var outgoing = await engine.EvaluateAsync(session, e.Data.ContactId, new EventRef(e.Id, e.Sequence, "screen", e.Data.Timestamp), cancellation);
        outgoing.AddRange(await segments.ReviewAsync(session, e.Data.ContactId, "screen", cancellation));
        return outgoing;
    }

    public static async Task<OutgoingMessages> Handle(IEvent<ContactIdentified> e, IDocumentSession session, TriggerEngine engine,
        SegmentMembership segments, CancellationToken cancellation)
    {
        var outgoing = await engine.PlanDateRemindersAsync(session, e.Data.ContactId,
            new EventRef(e.Id, e.Sequence, "identify", e.Data.Timestamp), cancellation);
        outgoing.AddRange(await segments.ReviewAsync(session, e.Data.ContactId, eventName: null, cancellation));
        return outgoing;
    }

    /// <summary>The survivor of a merge now has the absorbed contact's history and traits.</summary>
    public static Task<OutgoingMessages> Handle(IEvent<ContactMerged> e, IDocumentSession session, SegmentMembership segments,
        CancellationToken cancellation) =>
        segments.ReviewAsync(session, e.Data.ContactId, eventName: null, cancellation);

    /// <summary>The absorbed contact is no one any more: it leaves every segment.</summary>
    public static Task<OutgoingMessages> Handle(IEvent<ContactMergedInto> e, IDocumentSession session, SegmentMembership segments,
        CancellationToken cancellation) =>
        segments.ReviewAsync(session, e.Data.ContactId, eventName: null, cancellation);

    public static Task<OutgoingMessages> Handle(IEvent<SegmentEntered> e, IDocumentSession session, TriggerEngine engine, CancellationToken cancellation) =>
        engine.EvaluateAsync(session, e.Data.ContactId,
            new EventRef(e.Id, e.Sequence, SegmentChanges.EventName(SegmentChange.Entered, e.Data.Segment), e.Data.At), cancellation);

    public static Task<OutgoingMessages> Handle(IEvent<SegmentExited> e, IDocumentSession session, TriggerEngine engine, CancellationToken cancellation) =>
        engine.EvaluateAsync(session, e.Data.ContactId,
            new EventRef(e.Id, e.Sequence, SegmentChanges.EventName(SegmentChange.Exited, e.Data.Segment), e.Data.At), cancellation);
}
