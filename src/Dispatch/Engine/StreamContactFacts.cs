using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Runtime;
using Marten;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// Builds a contact's facts from the contact's own stream: every <see cref="IContactActivity"/> event, in event-time
/// order, with its id and sequence so that decisions can name it.
/// </summary>
public sealed class StreamContactFacts : IContactFacts
{
    public async Task<ContactFacts> LoadAsync(IQuerySession session, Guid contactId, CancellationToken cancellation)
    {
        var stream = await session.Events.FetchStreamAsync(contactId, token: cancellation);
        var events = new List<ContactEvent>(stream.Count);
        foreach (var e in stream)
        {
            if (e.Data is not IContactActivity activity) continue;
            var recorded = activity.ToRecorded();
            events.Add(new ContactEvent(new EventRef(e.Id, e.Sequence, recorded.Name, recorded.Timestamp), recorded));
        }
        events.Sort((a, b) => a.Event.Timestamp != b.Event.Timestamp
            ? a.Event.Timestamp.CompareTo(b.Event.Timestamp)
            : a.Ref.Sequence.CompareTo(b.Ref.Sequence));

        var snapshot = new ContactSnapshot(ObjectValue.Empty, ObjectValue.Empty, events.Select(e => e.Event));
        return new ContactFacts(snapshot, events, ContactReachability.Nowhere, null);
    }
}
