using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Projections.Segments;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Segments;

/// <summary>A published segment: its size now and the definition it is defined by.</summary>
/// <param name="Stale">The published definition (or a segment it refers to) changed since the membership was built; the
/// size and members are still those of the previous definition until the rebuild under way replaces them.</param>
public sealed record SegmentSummary(string Name, long Size, int Version, string ContentHash, bool Stale, bool Rebuilding);

/// <summary>The definition a membership was computed from.</summary>
/// <param name="Sequence">The last event (store sequence) the rebuild read; later ones were applied live.</param>
public sealed record SegmentBuiltFrom(int Version, string ContentHash, IReadOnlyDictionary<string, int> ReferencedVersions, long Sequence, Instant At);

public sealed record SegmentDetails(
    string Name,
    long Size,
    int Version,
    string ContentHash,
    IReadOnlyDictionary<string, int> ReferencedVersions,
    bool Stale,
    bool Rebuilding,
    SegmentBuiltFrom? BuiltFrom,
    IReadOnlyList<SegmentSizeOnDay> SizeHistory);

public static class ReadSegmentsEndpoint
{
    /// <summary>Every published segment with its size, definition version and whether a newer definition awaits its rebuild.</summary>
    [WolverineGet("/segments", Name = "ListSegments")]
    [Tags("Segments")]
    public static async Task<IReadOnlyList<SegmentSummary>> List(IQuerySession session, LiveRules live, CancellationToken cancellation)
    {
        var set = LiveSegments.Of(await live.ForWorkspaceAsync(session.TenantId, cancellation));
        var catalog = await session.LoadAsync<SegmentCatalog>(SegmentCatalog.DocumentId, cancellation) ?? new SegmentCatalog();
        var summaries = new List<SegmentSummary>();
        foreach (var segment in set.Segments.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var built = catalog.Current.GetValueOrDefault(segment.Name);
            var size = built is null ? 0 : await SegmentMembers.CountAsync(session, built.Generation, cancellation);
            summaries.Add(new SegmentSummary(segment.Name, size, segment.Definition.Version, segment.Definition.ContentHash,
                IsStale(segment, built), catalog.Rebuilding.ContainsKey(segment.Name)));
        }
        return summaries;
    }

    /// <summary>One segment: size, definition (version and hash, covering the segments it refers to), the definition the
    /// membership was built from, and the size at the end of each day it changed.</summary>
    [WolverineGet("/segments/{name}", Name = "GetSegment")]
    [Tags("Segments")]
    public static async Task<IResult> Get(string name, IQuerySession session, LiveRules live, CancellationToken cancellation)
    {
        var set = LiveSegments.Of(await live.ForWorkspaceAsync(session.TenantId, cancellation));
        if (set.Find(name) is not { } segment) return NoSuchSegment(name);
        var catalog = await session.LoadAsync<SegmentCatalog>(SegmentCatalog.DocumentId, cancellation) ?? new SegmentCatalog();
        var built = catalog.Current.GetValueOrDefault(name);
        var size = built is null ? 0 : await SegmentMembers.CountAsync(session, built.Generation, cancellation);
        return Results.Ok(new SegmentDetails(name, size, segment.Definition.Version, segment.Definition.ContentHash, set.ReferencedVersions[name],
            IsStale(segment, built), catalog.Rebuilding.ContainsKey(name),
            built is null ? null : new SegmentBuiltFrom(built.Version, built.ContentHash, built.ReferencedVersions, built.BuiltFromSequence, built.BuiltAt),
            await SegmentMembers.HistoryAsync(session, catalog.Lineage, name, cancellation)));
    }

    internal static bool IsStale(LiveSegment segment, SegmentGeneration? built) => built is null || built.ContentHash != segment.Definition.ContentHash;

    internal static IResult NoSuchSegment(string name) =>
        Results.Problem(new ProblemDetails
        {
            Status = 404, Title = "No such segment", Detail = $"The workspace has no published segment '{name}'.",
            Extensions = { ["field"] = "name" },
        });
}
