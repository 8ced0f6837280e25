using System.Collections.Concurrent;
using EventSourcedJourneys.Domain.Delivery;
using Marten;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// The recorded events of contact streams this node has already read, so that deciding on a contact's next event
/// reads only what was appended since, not the contact's whole history again. Streams are append-only: a cached
/// prefix stays true as long as the stream still holds the same event at the cached version, which every read checks
/// (a stream replaced under the same id, as a reset does, is read again in full). Bounded: past
/// <see cref="MaxEvents"/> cached events it starts over empty.
/// </summary>
public sealed class ContactHistoryCache
{
    public const int MaxEvents = 250_000;

    private sealed record Entry(long Version, Guid LastEventId, IReadOnlyList<ContactEvent> Events);

    private readonly ConcurrentDictionary<(string Tenant, Guid Stream), Entry> _entries = new();
    private int _cachedEvents;

    /// <summary>The stream's recorded events in stream order (as rules see them), read from the store as far as needed.</summary>
    public async Task<IReadOnlyList<ContactEvent>> ReadAsync(IQuerySession session, Guid stream, CancellationToken cancellation)
    {
        var key = (session.TenantId, stream);
        if (_entries.TryGetValue(key, out var cached))
        {
            var tail = await session.Events.FetchStreamAsync(stream, fromVersion: cached.Version, token: cancellation);
            if (tail.Count > 0 && tail[0].Version == cached.Version && tail[0].Id == cached.LastEventId)
            {
                if (tail.Count == 1) return cached.Events;
                var longer = new List<ContactEvent>(cached.Events.Count + tail.Count - 1);
                longer.AddRange(cached.Events);
                Append(longer, tail.Skip(1));
                Remember(key, tail[^1], longer, longer.Count - cached.Events.Count);
                return longer;
            }
        }

        var all = await session.Events.FetchStreamAsync(stream, token: cancellation);
        var events = new List<ContactEvent>(all.Count);
        Append(events, all);
        if (all.Count > 0) Remember(key, all[^1], events, events.Count - (cached?.Events.Count ?? 0));
        return events;
    }

    private static void Append(List<ContactEvent> events, IEnumerable<JasperFx.Events.IEvent> stored)
    {
        foreach (var e in stored)
        {
            if (ProfileContactFacts.ContactEventOf(e.Id, e.Sequence, e.Data) is { } recorded) events.Add(recorded);
        }
    }

    private void Remember((string, Guid) key, JasperFx.Events.IEvent last, IReadOnlyList<ContactEvent> events, int added)
    {
        if (Interlocked.Add(ref _cachedEvents, added) > MaxEvents)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _cachedEvents, events.Count);
        }
        _entries[key] = new Entry(last.Version, last.Id, events);
    }
}
