using EventSourcedJourneys.Api.Rules;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Reports;

/// <summary>A published funnel: its live version, and the version its report data was computed from.</summary>
public sealed record FunnelListItem(
    string Name, int PublishedVersion, bool Paused, IReadOnlyList<string> Steps, Duration? Window, int? ComputedVersion,
    FunnelRebuildStatus? Rebuilding);

public static class FunnelEndpoints
{
    [WolverineGet("/funnels", Name = "ListFunnels")]
    [Tags("Reports")]
    public static async Task<IReadOnlyList<FunnelListItem>> List(IQuerySession session, CancellationToken cancellation)
    {
        var set = await session.LoadAsync<LiveRuleSet>(LiveRuleSet.DocumentId, cancellation);
        var definitions = (await session.Query<FunnelDefinition>().ToListAsync(cancellation)).ToDictionary(d => d.Id, StringComparer.Ordinal);
        return (set?.Rules.Values.AsEnumerable() ?? []).Where(r => r.Kind == "funnel").OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r =>
            {
                var definition = definitions.GetValueOrDefault(r.Name);
                var shape = definition?.Active is { } active ? FunnelProjection.Compile(r.Name, active)
                    : definition?.Building is { } building ? FunnelProjection.Compile(r.Name, building) : null;
                return new FunnelListItem(r.Name, r.Version, r.Paused, shape?.Steps.Select(s => s.EventName).ToList() ?? [], shape?.Within,
                    definition?.Active?.Version,
                    definition?.Building is { } b ? new FunnelRebuildStatus(b.Version, b.StartedAt, b.Done, b.Total) : null);
            })
            .ToList();
    }

    /// <summary>
    /// The funnel's report over the step-1 events whose event time lies in [from, to) (both optional), optionally broken
    /// down by <c>trait:NAME</c>, <c>property:NAME</c> (of the step-1 event) or <c>campaign:TRIGGER</c> (exposure).
    /// </summary>
    [WolverineGet("/funnels/{name}/report", Name = "GetFunnelReport")]
    [Tags("Reports")]
    public static async Task<IResult> Report(string name, string? from, string? to, string? breakdown, IQuerySession session,
        FunnelIndexes indexes, CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        var start = ParseInstant(from, "from", errors);
        var end = ParseInstant(to, "to", errors);
        if (start is { } s && end is { } e && e <= s) errors["to"] = ["Must be after 'from'."];
        FunnelBreakdown? by = null;
        if (breakdown is not null && !FunnelBreakdown.TryParse(breakdown, out by))
            errors["breakdown"] = [$"'{breakdown}' is not a breakdown; use trait:NAME, property:NAME or campaign:TRIGGER."];
        if (errors.Count > 0)
            return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The report cannot be computed" });

        var set = await session.LoadAsync<LiveRuleSet>(LiveRuleSet.DocumentId, cancellation);
        if (set?.Rules.GetValueOrDefault(name) is not { Kind: "funnel" })
            return Results.Problem(RuleTexts.Problem(404, "No such funnel", $"This workspace has no published funnel '{name}'."));
        var definition = await session.LoadAsync<FunnelDefinition>(name, cancellation);
        if (definition?.Active is null)
        {
            var problem = RuleTexts.Problem(409, "The funnel is still being computed",
                $"Funnel '{name}' is being computed from history for the first time; ask again shortly.");
            if (definition?.Building is { } b) problem.Extensions["rebuilding"] = new FunnelRebuildStatus(b.Version, b.StartedAt, b.Done, b.Total);
            return Results.Problem(problem);
        }
        return Results.Ok(await indexes.ComputeAsync(session.DocumentStore, session.TenantId, definition, start, end, by, cancellation));
    }

    private static Instant? ParseInstant(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null) return null;
        var parsed = InstantPattern.ExtendedIso.Parse(text);
        if (parsed.Success) return parsed.Value;
        errors[field] = [$"'{text}' is not an instant; write it as ISO-8601 UTC, e.g. \"2026-12-01T00:00:00Z\"."];
        return null;
    }
}
