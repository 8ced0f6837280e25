using NodaTime;

namespace EventSourcedJourneys.Domain.Segments;

/// <summary>Which definition decided a membership: the segment's live version, and the SHA-256 (hex) of its text
/// together with the texts of every segment it refers to, so a change to a referenced segment changes it too.</summary>
public sealed record SegmentDefinition(string Name, int Version, string ContentHash);

/// <summary>A change of a contact's membership, appended to the contact's stream.</summary>
public interface ISegmentEvent
{
    Guid ContactId { get; }
    string Segment { get; }
    int Version { get; }
    string ContentHash { get; }
    Instant At { get; }
}

/// <summary>The contact came to match the segment's definition at <paramref name="At"/>; it can start triggers
/// (<c>on entered segment …</c>).</summary>
public sealed record SegmentEntered(Guid ContactId, string Segment, int Version, string ContentHash, Instant At) : ISegmentEvent;

/// <summary>The contact stopped matching the segment's definition at <paramref name="At"/> (a new event, a merge, or
/// an event leaving a time window).</summary>
public sealed record SegmentExited(Guid ContactId, string Segment, int Version, string ContentHash, Instant At) : ISegmentEvent;
