namespace EventSourcedJourneys.Dsl.Runtime;

/// <summary>
/// What rules may know about one contact at evaluation time: traits, the latest context seen and the
/// events recorded so far. Events are indexed by name and ordered by time once, here, so that a
/// behavioural condition over a long history costs a lookup and a binary search rather than a scan.
/// </summary>
public sealed class ContactSnapshot
{
    static readonly RecordedEvent[] None = [];

    readonly Dictionary<string, RecordedEvent[]> _eventsByName;

    public ContactSnapshot(ObjectValue traits, ObjectValue latestContext, IEnumerable<RecordedEvent> events)
    {
        Traits = traits;
        LatestContext = latestContext;
        Events = events.OrderBy(e => e.Timestamp).ToArray();
        _eventsByName = Events
            .GroupBy(e => e.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    public static ContactSnapshot Empty { get; } = new(ObjectValue.Empty, ObjectValue.Empty, []);

    public ObjectValue Traits { get; }

    public ObjectValue LatestContext { get; }

    /// <summary>All events, oldest first (ties keep the order they were given in).</summary>
    public IReadOnlyList<RecordedEvent> Events { get; }

    /// <summary>Events with this name, oldest first.</summary>
    public ReadOnlySpan<RecordedEvent> EventsNamed(string name) =>
        _eventsByName.TryGetValue(name, out var events) ? events : None;
}
