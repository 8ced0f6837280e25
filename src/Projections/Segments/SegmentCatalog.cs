using NodaTime;

namespace EventSourcedJourneys.Projections.Segments;

/// <summary>
/// One built membership of a segment: the generation of rows in <c>segment_members</c> it owns, and the definition
/// it was computed with (the segment's version, and the hash covering the segments it refers to, with their versions).
/// </summary>
public sealed record SegmentGeneration(
    Guid Generation,
    int Version,
    string ContentHash,
    IReadOnlyDictionary<string, int> ReferencedVersions,
    long BuiltFromSequence,
    Instant BuiltAt);

/// <summary>A rebuild under way; reads keep using the current generation until it replaces it.</summary>
public sealed record SegmentRebuild(Guid Generation, int Version, string ContentHash, Instant StartedAt);

/// <summary>
/// The workspace's segment memberships (one document per workspace): for every segment, the generation reads are
/// served from, and the one being built. Written only by the rebuild (one at a time); read by every evaluation.
/// </summary>
public sealed record SegmentCatalog
{
    public const string DocumentId = "segments";

    public string Id { get; init; } = DocumentId;

    /// <summary>Names this catalog's size history (rows of <c>segment_sizes</c>), so a store reset to empty starts a
    /// new history instead of adding to the rows of the old one.</summary>
    public Guid Lineage { get; init; } = Guid.CreateVersion7();
    public Dictionary<string, SegmentGeneration> Current { get; init; } = new(StringComparer.Ordinal);
    public Dictionary<string, SegmentRebuild> Rebuilding { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>The one pending time review of a contact (<see cref="DueAt"/>), so an evaluation schedules a review only
/// when the instant changed, and an older scheduled review that fires finds it superseded.</summary>
public sealed record SegmentReviewPlan(Guid Id, Instant DueAt);
