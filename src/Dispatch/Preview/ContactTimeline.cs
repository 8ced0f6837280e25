using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Contacts;
using JasperFx.Events;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Preview;

/// <summary>
/// One person's history (their own stream and those merged into it), able to say what the rules would have read about
/// them at any instant: the profile rebuilt from the events that had happened by then (by the profile projection's own
/// Apply methods, then combined as <see cref="ContactProfiles.Combine"/> does) and their events up to then, turned
/// into facts exactly as the live engine reads them (<see cref="ProfileContactFacts.From"/>).
/// </summary>
public sealed class ContactTimeline
{
    private readonly Guid _contactId;
    private readonly (Instant At, IEvent Event)[] _facts;
    private readonly List<ContactEvent> _events;
    private readonly Dictionary<Guid, ContactProfile> _profiles = new();
    private int _applied;
    private int _eventsSeen;
    private Instant? _lastAt;
    private ContactFacts? _cached;

    /// <param name="contactId">The person (the surviving contact of any merges).</param>
    /// <param name="events">The events of every stream that holds the person's history.</param>
    public ContactTimeline(Guid contactId, IEnumerable<IEvent> events)
    {
        _contactId = contactId;
        var all = events.ToList();
        _facts = all.Select(e => (At: EventTime(e.Data), Event: e)).Where(f => f.At is not null)
            .Select(f => (f.At!.Value, f.Event)).OrderBy(f => f.Value).ThenBy(f => f.Event.Sequence).ToArray();
        _events = all.Select(e => ProfileContactFacts.ContactEventOf(e.Id, e.Sequence, e.Data))
            .OfType<ContactEvent>()
            .OrderBy(e => e.Event.Timestamp).ThenBy(e => e.Ref.Sequence).ToList();
        Identifies = all.Where(e => e.Data is ContactIdentified)
            .Select(e => new EventRef(e.Id, e.Sequence, "identify", ((ContactIdentified)e.Data).Timestamp))
            .OrderBy(r => r.OccurredAt).ThenBy(r => r.Sequence).ToList();
    }

    public Guid ContactId => _contactId;

    /// <summary>The events rules can be started by (tracked events, page and screen views), in event-time order.</summary>
    public IReadOnlyList<ContactEvent> Events => _events;

    /// <summary>The identify calls (which re-plan date reminders), in event-time order.</summary>
    public IReadOnlyList<EventRef> Identifies { get; }

    /// <summary>What the rules would have read at <paramref name="at"/>: everything that had happened by then.</summary>
    public ContactFacts AsOf(Instant at)
    {
        if (_lastAt is { } last && at < last) Rewind();
        _lastAt = at;

        var changed = false;
        while (_applied < _facts.Length && _facts[_applied].At <= at)
        {
            var (_, e) = _facts[_applied++];
            var stream = e.StreamId;
            var profile = _profiles.TryGetValue(stream, out var current) ? current : new ContactProfile { Id = stream };
            _profiles[stream] = Apply(profile, e);
            changed = true;
        }
        while (_eventsSeen < _events.Count && _events[_eventsSeen].Event.Timestamp <= at)
        {
            _eventsSeen++;
            changed = true;
        }
        if (!changed && _cached is not null) return _cached;

        _cached = ProfileContactFacts.From(Profile(), _events.Take(_eventsSeen).ToList());
        return _cached;
    }

    private ContactProfile? Profile()
    {
        if (_profiles.Count == 0) return null;
        var survivor = _profiles.GetValueOrDefault(_contactId) ?? new ContactProfile { Id = _contactId };
        var absorbed = _profiles.Where(p => p.Key != _contactId).OrderBy(p => p.Key).Select(p => p.Value).ToList();
        return absorbed.Count == 0 ? survivor : ContactProfiles.Combine(survivor, absorbed);
    }

    private void Rewind()
    {
        _profiles.Clear();
        _applied = 0;
        _eventsSeen = 0;
        _cached = null;
    }

    // Merges are not replayed: the preview reads a merged person as one person throughout (docs/semantics.md).
    private static ContactProfile Apply(ContactProfile profile, IEvent e) => e.Data switch
    {
        IdentityLinked linked => ContactProfileProjection.Apply(linked, profile),
        ContactTracked tracked => ContactProfileProjection.Apply(tracked, profile),
        PageViewed page => ContactProfileProjection.Apply(page, profile),
        ScreenViewed screen => ContactProfileProjection.Apply(screen, profile),
        ContactAliased aliased => ContactProfileProjection.Apply(aliased, profile),
        ContactIdentified identified => ContactProfileProjection.Apply(identified, profile),
        ContactGrouped grouped => ContactProfileProjection.Apply(grouped, profile),
        ChannelSubscriptionChanged when e is IEvent<ChannelSubscriptionChanged> subscription => ContactProfileProjection.Apply(subscription, profile),
        _ => profile,
    };

    private static Instant? EventTime(object data) => data switch
    {
        ITrackingCall call => call.Timestamp,
        IdentityLinked linked => linked.Timestamp,
        ChannelSubscriptionChanged subscription => subscription.Timestamp,
        _ => null,
    };
}
