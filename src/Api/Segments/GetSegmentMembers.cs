using System.Globalization;
using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Segments;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Segments;

/// <summary>A page of a segment's members, in contact id order.</summary>
public sealed record SegmentMemberPage(string Segment, int Page, int PageSize, long Total, bool Stale, IReadOnlyList<SegmentMember> Members);

/// <summary>A segment the contact is in, since when.</summary>
public sealed record ContactSegment(string Segment, NodaTime.Instant Since);

public static class GetSegmentMembersEndpoint
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    /// <summary>Who is in the segment: <c>page</c> (from 1) and <c>pageSize</c> (1–1000, default 100); the order (by contact
    /// id) is stable, so pages do not overlap while the membership stays the same.</summary>
    [WolverineGet("/segments/{name}/members", Name = "GetSegmentMembers")]
    [Tags("Segments")]
    public static async Task<IResult> Get(string name, string? page, string? pageSize, IQuerySession session, LiveRules live,
        CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        var pageNumber = Parse(page, "page", 1, 1, int.MaxValue, errors);
        var size = Parse(pageSize, "pageSize", DefaultPageSize, 1, MaxPageSize, errors);
        if (errors.Count > 0) return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The members cannot be listed so" });

        var set = LiveSegments.Of(await live.ForWorkspaceAsync(session.TenantId, cancellation));
        if (set.Find(name) is not { } segment) return ReadSegmentsEndpoint.NoSuchSegment(name);
        var catalog = await session.LoadAsync<SegmentCatalog>(SegmentCatalog.DocumentId, cancellation) ?? new SegmentCatalog();
        var built = catalog.Current.GetValueOrDefault(name);
        if (built is null) return Results.Ok(new SegmentMemberPage(name, pageNumber, size, 0, Stale: true, []));

        var total = await SegmentMembers.CountAsync(session, built.Generation, cancellation);
        var offset = (long)(pageNumber - 1) * size;
        var members = offset >= total ? [] : await SegmentMembers.PageAsync(session, built.Generation, (int)offset, size, cancellation);
        return Results.Ok(new SegmentMemberPage(name, pageNumber, size, total, ReadSegmentsEndpoint.IsStale(segment, built), members));
    }

    /// <summary>The published segments the contact is in now (a contact merged into another answers for the one it went into).</summary>
    [WolverineGet("/contacts/{contactId}/segments", Name = "GetContactSegments")]
    [Tags("Contacts")]
    public static async Task<IResult> ForContact(Guid contactId, IQuerySession session, LiveRules live, CancellationToken cancellation)
    {
        var profile = await ContactProfiles.LoadAsync(session, contactId, cancellation);
        if (profile is null)
            return Results.Problem(new ProblemDetails { Status = 404, Title = "No such contact", Detail = $"The workspace has no contact '{contactId}'." });
        var set = LiveSegments.Of(await live.ForWorkspaceAsync(session.TenantId, cancellation));
        var catalog = await session.LoadAsync<SegmentCatalog>(SegmentCatalog.DocumentId, cancellation) ?? new SegmentCatalog();
        var byGeneration = set.Segments
            .Where(s => catalog.Current.ContainsKey(s.Name))
            .ToDictionary(s => catalog.Current[s.Name].Generation, s => s.Name);
        var memberships = await SegmentMembers.MembershipsOfAsync(session, profile.Id, cancellation);
        return Results.Ok(memberships
            .Where(m => byGeneration.ContainsKey(m.Generation))
            .Select(m => new ContactSegment(byGeneration[m.Generation], m.Since))
            .OrderBy(s => s.Segment, StringComparer.Ordinal)
            .ToList());
    }

    private static int Parse(string? text, string field, int fallback, int min, int max, Dictionary<string, string[]> errors)
    {
        if (text is null) return fallback;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        errors[field] = [max == int.MaxValue ? $"A whole number from {min}." : $"A whole number from {min} to {max}."];
        return fallback;
    }
}
