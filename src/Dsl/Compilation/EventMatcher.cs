using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary><c>event "name" where …</c> compiled: decides whether one event is the kind a clause waits for.</summary>
public sealed class EventMatcher
{
    readonly ConditionFunc? _filter;

    internal EventMatcher(string eventName, ConditionFunc? filter)
    {
        EventName = eventName;
        _filter = filter;
    }

    public string EventName { get; }

    public bool HasFilter => _filter is not null;

    /// <summary>Whether <paramref name="candidate"/> has the right name and passes the <c>where</c> filter.
    /// <paramref name="entry"/> is when the contact entered the trigger, for <c>since entry</c> windows.</summary>
    public bool Matches(RecordedEvent candidate, ContactSnapshot contact, Instant now, Instant? entry = null) =>
        string.Equals(candidate.Name, EventName, StringComparison.Ordinal)
        && (_filter is null || _filter(new EvaluationScope(contact, candidate, now, entry)));
}
