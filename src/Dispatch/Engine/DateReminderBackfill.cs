using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Projections.Contacts;
using JasperFx.Events;
using Marten;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>Plan one contact's date reminders because a date trigger went live.</summary>
public sealed record PlanDateReminders(Guid ContactId, EventRef Publication) : IContactMessage;

/// <summary>
/// When a date trigger (<c>on date traits.x minus 30d …</c>) is published, contacts who already carry the trait get
/// their reminders too — not only those identified afterwards. One message per contact, handled in that contact's lane.
/// </summary>
public static class DateReminderBackfillHandler
{
    public static async Task<OutgoingMessages> Handle(IEvent<RuleVersionPublished> e, IQuerySession session, LiveRules live,
        CancellationToken cancellation)
    {
        var outgoing = new OutgoingMessages();
        if (e.Data.Kind != "trigger") return outgoing;
        var rules = await live.ForWorkspaceAsync(session.TenantId, cancellation);
        if (rules.Document.FindTrigger(e.Data.Name)?.OnDate is null) return outgoing;

        var publication = new EventRef(e.Id, e.Sequence, $"published {e.Data.Name} v{e.Data.Version}", e.Data.PublishedAt);
        var contacts = await session.Query<ContactProfile>().Where(p => p.MergedInto == null).Select(p => p.Id).ToListAsync(cancellation);
        foreach (var contact in contacts) outgoing.Add(new PlanDateReminders(contact, publication));
        return outgoing;
    }

    public static Task<OutgoingMessages> Handle(PlanDateReminders command, IDocumentSession session, TriggerEngine engine, CancellationToken cancellation) =>
        engine.PlanDateRemindersAsync(session, command.ContactId, command.Publication, cancellation);
}
