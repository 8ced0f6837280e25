using System.Text.Json;
using EventSourcedJourneys.Dispatch.Delivery;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Projections.Contacts;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// A contact's facts as the rules read them: traits, latest context, addresses and consent from the contact profile
/// (merged contacts included), and the events of every stream that holds the person's history. Track calls are events
/// under their own name; page and screen views under "page" and "screen". The events already read are kept
/// (<see cref="ContactHistoryCache"/>): a contact's next decision reads only what its streams gained since.
/// </summary>
public sealed class ProfileContactFacts : IContactFacts, ITemplateFacts
{
    private readonly ContactHistoryCache _history = new();

    public async Task<ContactFacts> LoadAsync(IQuerySession session, Guid contactId, CancellationToken cancellation)
    {
        var profile = await ContactProfiles.LoadAsync(session, contactId, cancellation);
        var streams = profile is null ? [contactId] : ContactProfiles.StreamIds(profile);

        var events = new List<ContactEvent>();
        foreach (var stream in streams) events.AddRange(await _history.ReadAsync(session, stream, cancellation));
        events.Sort((a, b) => a.Event.Timestamp != b.Event.Timestamp
            ? a.Event.Timestamp.CompareTo(b.Event.Timestamp)
            : a.Ref.Sequence.CompareTo(b.Ref.Sequence));
        return From(profile, events);
    }

    /// <summary>The facts of a profile and its events (in event-time order); shared with the preview on history, which
    /// rebuilds the profile as it stood at each instant.</summary>
    public static ContactFacts From(ContactProfile? profile, IReadOnlyList<ContactEvent> events)
    {
        var snapshot = Snapshot(profile, events.Select(e => e.Event));
        return new ContactFacts(snapshot, events, profile?.Reachability() ?? ContactReachability.Nowhere, ZoneOf(profile));
    }

    /// <summary>What conditions read: the profile's traits and latest context, and the events.</summary>
    public static ContactSnapshot Snapshot(ContactProfile? profile, IEnumerable<RecordedEvent> events)
    {
        var traits = profile is null ? ObjectValue.Empty : Traits(profile.Traits);
        var context = profile?.LatestContext is { } latest ? Value.ObjectFromJson(latest.Context) : ObjectValue.Empty;
        return new ContactSnapshot(traits, context, events);
    }

    public async Task<(JsonElement? Traits, JsonElement? Context, DateTimeZone? Zone)> ContactAsync(IQuerySession session, Guid contactId,
        CancellationToken cancellation)
    {
        var profile = await ContactProfiles.LoadAsync(session, contactId, cancellation);
        if (profile is null) return (null, null, null);
        return (JsonSerializer.SerializeToElement(profile.Traits), profile.LatestContext?.Context, ZoneOf(profile));
    }

    /// <summary>A stored event as rules see it, with its place in the log; null for events rules cannot name.</summary>
    public static ContactEvent? ContactEventOf(Guid eventId, long sequence, object data) =>
        Recorded(data) is { } recorded ? new ContactEvent(new EventRef(eventId, sequence, recorded.Name, recorded.Timestamp), recorded) : null;

    /// <summary>The event as rules see it, for the kinds of events rules can name (entering or leaving a segment is one,
    /// under "entered segment NAME" / "exited segment NAME").</summary>
    public static RecordedEvent? Recorded(object data) => data switch
    {
        ContactTracked t => new RecordedEvent(t.Event, t.Timestamp, Value.ObjectFromJson(t.Properties), Value.ObjectFromJson(t.Context)),
        PageViewed p => new RecordedEvent("page", p.Timestamp, Value.ObjectFromJson(p.Properties), Value.ObjectFromJson(p.Context)),
        ScreenViewed s => new RecordedEvent("screen", s.Timestamp, Value.ObjectFromJson(s.Properties), Value.ObjectFromJson(s.Context)),
        SegmentEntered entered => new RecordedEvent(SegmentChanges.EventName(SegmentChange.Entered, entered.Segment), entered.At),
        SegmentExited exited => new RecordedEvent(SegmentChanges.EventName(SegmentChange.Exited, exited.Segment), exited.At),
        _ => null,
    };

    private static ObjectValue Traits(IReadOnlyDictionary<string, JsonElement> traits) =>
        new(traits.ToDictionary(t => t.Key, t => Value.FromJson(t.Value), StringComparer.Ordinal));

    private static DateTimeZone? ZoneOf(ContactProfile? profile) =>
        profile?.LatestContext?.TimeZone is { } id ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) : null;
}
