using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using JasperFx.Events;
using Marten;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// The engine's entry points, fed in order by the event store's subscription: every tracked event (and page or
/// screen view) runs through the published triggers and goals; every identify re-plans date reminders.
/// </summary>
public static class ContactEventHandler
{
    public static Task<OutgoingMessages> Handle(IEvent<ContactTracked> e, IDocumentSession session, TriggerEngine engine, CancellationToken cancellation) =>
        engine.EvaluateAsync(session, e.Data.ContactId, new EventRef(e.Id, e.Sequence, e.Data.Event, e.Data.Timestamp), cancellation);

    public static Task<OutgoingMessages> Handle(IEvent<PageViewed> e, IDocumentSession session, TriggerEngine engine, CancellationToken cancellation) =>
        engine.EvaluateAsync(session, e.Data.ContactId, new EventRef(e.Id, e.Sequence, "page", e.Data.Timestamp), cancellation);

    public static Task<OutgoingMessages> Handle(IEvent<ScreenViewed> e, IDocumentSession session, TriggerEngine engine, CancellationToken cancellation) =>
        engine.EvaluateAsync(session, e.Data.ContactId, new EventRef(e.Id, e.Sequence, "screen", e.Data.Timestamp), cancellation);

    public static Task<OutgoingMessages> Handle(IEvent<ContactIdentified> e, IDocumentSession session, TriggerEngine engine, CancellationToken cancellation) =>
        engine.PlanDateRemindersAsync(session, e.Data.ContactId, new EventRef(e.Id, e.Sequence, "identify", e.Data.Timestamp), cancellation);
}
