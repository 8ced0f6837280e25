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
        var ordered = events.ToArray();
        if (!IsInTimeOrder(ordered))
            ordered = ordered.OrderBy(e => e.Timestamp).ToArray();
        Events = ordered;

        var byName = new Dictionary<string, List<RecordedEvent>>(StringComparer.Ordinal);
        foreach (var e in ordered)
        {
            if (!byName.TryGetValue(e.Name, out var list))
                byName.Add(e.Name, list = []);
            list.Add(e);
        }
        _eventsByName = new Dictionary<string, RecordedEvent[]>(byName.Count, StringComparer.Ordinal);
        foreach (var (name, list) in byName)
            _eventsByName.Add(name, list.ToArray());
    }

    /// <summary>Histories usually arrive oldest first; sorting them again would be wasted work.</summary>
    static bool IsInTimeOrder(RecordedEvent[] events)
    {
        for (var i = 1; i < events.Length; i++)
        {
            if (events[i].Timestamp < events[i - 1].Timestamp)
                return false;
        }
        return true;
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
