using EventSourcedJourneys.Dispatch.Segments;
using Marten;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// The engine's entry point for a contact's events, fed in store order by the <see cref="ReactionsRelay"/> (only the
/// events a live rule can react to): a tracked event (or page or screen view) runs through the published triggers and
/// goals, then the segments it can change; an identify re-plans date reminders and re-evaluates segments, as does a
/// merge; entering or leaving a segment runs through the triggers started by it.
/// </summary>
public static class ContactEventHandler
{
    public static async Task<OutgoingMessages> Handle(EvaluateContactEvent command, IDocumentSession session, TriggerEngine engine,
        SegmentMembership segments, CancellationToken cancellation)
    {
        await ContactStreamLock.TakeAsync(session, command.ContactId, cancellation);
        switch (command.Kind)
        {
            case ContactEventKind.Activity:
                var outgoing = await engine.EvaluateAsync(session, command.ContactId, command.Event, cancellation);
                outgoing.AddRange(await segments.ReviewAsync(session, command.ContactId, command.Event.Name, cancellation));
                return outgoing;
            case ContactEventKind.TraitsChanged:
                var planned = await engine.PlanDateRemindersAsync(session, command.ContactId, command.Event, cancellation);
                planned.AddRange(await segments.ReviewAsync(session, command.ContactId, eventName: null, cancellation));
                return planned;
            case ContactEventKind.Merged:
                // The survivor now has the absorbed contact's history and traits; the absorbed contact is no one any more.
                return await segments.ReviewAsync(session, command.ContactId, eventName: null, cancellation);
            case ContactEventKind.SegmentChanged:
                return await engine.EvaluateAsync(session, command.ContactId, command.Event, cancellation);
            default:
                throw new ArgumentOutOfRangeException(nameof(command), command.Kind, "Unknown kind of contact event.");
        }
    }
}
