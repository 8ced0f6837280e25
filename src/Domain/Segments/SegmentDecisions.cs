using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Domain.Segments;

/// <summary>A published segment, compiled, with the definition it is evaluated under.</summary>
public sealed record LiveSegment(SegmentDefinition Definition, CompiledSegment Compiled)
{
    public string Name => Definition.Name;
}

/// <summary>
/// Segment membership, decided purely from the contact's facts and <c>now</c>: who enters, who exits, and when the
/// answer can next change with no new event (see docs/adr/0011-segment-membership.md).
/// </summary>
public static class SegmentDecisions
{
    /// <summary>The membership changes for <paramref name="segments"/>, given the segments the contact is in now
    /// (<paramref name="memberOf"/>). A contact merged into another (<paramref name="merged"/>) is in no segment.</summary>
    public static IReadOnlyList<ISegmentEvent> Review(Guid contactId, IEnumerable<LiveSegment> segments, IReadOnlySet<string> memberOf,
        ContactSnapshot contact, bool merged, Instant now)
    {
        var changes = new List<ISegmentEvent>();
        foreach (var segment in segments)
        {
            var isIn = !merged && segment.Compiled.Contains(contact, now);
            var wasIn = memberOf.Contains(segment.Name);
            var (name, version, hash) = segment.Definition;
            if (isIn && !wasIn) changes.Add(new SegmentEntered(contactId, name, version, hash, now));
            else if (!isIn && wasIn) changes.Add(new SegmentExited(contactId, name, version, hash, now));
        }
        return changes;
    }

    /// <summary>When to look at the contact again if nothing happens: the earliest instant any of the segments can
    /// change its answer by time alone, or null.</summary>
    public static Instant? NextReview(IEnumerable<LiveSegment> segments, ContactSnapshot contact, bool merged, Instant now)
    {
        if (merged) return null;
        Instant? earliest = null;
        foreach (var segment in segments)
        {
            if (segment.Compiled.Reads.NextChange(contact, now) is { } at && (earliest is null || at < earliest)) earliest = at;
        }
        return earliest;
    }

    /// <summary>Whether an event of this name (or a profile change) can change the segment's answer.</summary>
    public static bool CanChangeOn(LiveSegment segment, string? eventName) =>
        eventName is null
        || segment.Compiled.Reads.ReadsContext
        || segment.Compiled.Reads.EventNames.Contains(eventName, StringComparer.Ordinal);
}
