using DiffPlex;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Rules;

public sealed record RuleListItem(string Name, string Kind, RuleStatus Status, int LatestVersion, int? PublishedVersion, Instant UpdatedAt);

public sealed record RuleVersionView(string Name, string Kind, int Version, string Text, string ContentHash, Instant SavedAt, bool Published);

public sealed record DiffLine(string Change, int? FromLine, int? ToLine, string Text);

public sealed record RuleDiff(string Name, int From, int To, IReadOnlyList<DiffLine> Lines, string Unified);

public static class ReadRulesEndpoints
{
    [WolverineGet("/rules", Name = "ListRules")]
    [Tags("Rules")]
    public static async Task<IReadOnlyList<RuleListItem>> List(IQuerySession session, CancellationToken cancellation)
    {
        var rules = await session.Query<RuleState>().ToListAsync(cancellation);
        return rules.OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => new RuleListItem(r.Name, r.Kind, r.Status, r.LatestVersion, r.PublishedVersion, r.UpdatedAt)).ToList();
    }

    [WolverineGet("/rules/{name}", Name = "GetRule")]
    [Tags("Rules")]
    public static async Task<IResult> Get(string name, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<RuleState>(RuleIds.For(name), cancellation) is { } rule
            ? Results.Ok(rule)
            : RuleLifecycleEndpoints.NotFound(name);

    [WolverineGet("/rules/{name}/versions/{version}", Name = "GetRuleVersion")]
    [Tags("Rules")]
    public static async Task<IResult> GetVersion(string name, int version, IQuerySession session, CancellationToken cancellation)
    {
        if (await session.LoadAsync<RuleState>(RuleIds.For(name), cancellation) is not { } rule) return RuleLifecycleEndpoints.NotFound(name);
        if (rule.Version(version) is not { } v) return NoVersion(name, version, rule);
        return Results.Ok(new RuleVersionView(name, rule.Kind, v.Number, v.Text, v.ContentHash, v.SavedAt, rule.PublishedVersion == v.Number));
    }

    [WolverineGet("/rules/{name}/diff", Name = "DiffRuleVersions")]
    [Tags("Rules")]
    public static async Task<IResult> Diff(string name, int? from, int? to, IQuerySession session, CancellationToken cancellation)
    {
        if (await session.LoadAsync<RuleState>(RuleIds.For(name), cancellation) is not { } rule) return RuleLifecycleEndpoints.NotFound(name);
        var toNumber = to ?? rule.LatestVersion;
        var fromNumber = from ?? Math.Max(1, toNumber - 1);
        if (rule.Version(fromNumber) is not { } older) return NoVersion(name, fromNumber, rule, "from");
        if (rule.Version(toNumber) is not { } newer) return NoVersion(name, toNumber, rule, "to");

        var model = InlineDiffBuilder.Diff(older.Text, newer.Text, ignoreWhiteSpace: false);
        var lines = new List<DiffLine>();
        int fromLine = 0, toLine = 0;
        foreach (var line in model.Lines)
        {
            switch (line.Type)
            {
                case ChangeType.Deleted: lines.Add(new DiffLine("removed", ++fromLine, null, line.Text)); break;
                case ChangeType.Inserted: lines.Add(new DiffLine("added", null, ++toLine, line.Text)); break;
                default: lines.Add(new DiffLine("unchanged", ++fromLine, ++toLine, line.Text)); break;
            }
        }
        var unified = $"--- {name} v{fromNumber}\n+++ {name} v{toNumber}\n" + string.Concat(lines.Select(l =>
            (l.Change switch { "removed" => "-", "added" => "+", _ => " " }) + l.Text + "\n"));
        return Results.Ok(new RuleDiff(name, fromNumber, toNumber, lines, unified));
    }

    private static IResult NoVersion(string name, int version, RuleState rule, string? parameter = null) =>
        Results.Problem(RuleTexts.Problem(404, "No such version",
            $"Rule '{name}' has no version {version}{(parameter is null ? "" : $" (parameter '{parameter}')")}; its versions are 1 to {rule.LatestVersion}."));
}

public sealed record LiveRulesView(long Revision, IReadOnlyList<LiveRule> Rules, IReadOnlyList<string> TriggeringEvents);

public static class LiveRulesEndpoint
{
    /// <summary>What the engine evaluates right now in this workspace: the published versions, compiled.</summary>
    [WolverineGet("/live-rules", Name = "GetLiveRules")]
    [Tags("Rules")]
    public static async Task<LiveRulesView> Get(Wolverine.IMessageContext context, EventSourcedJourneys.Dispatch.Rules.LiveRules live,
        CancellationToken cancellation)
    {
        var snapshot = await live.ForWorkspaceAsync(context.TenantId!, cancellation);
        return new LiveRulesView(snapshot.Revision,
            snapshot.Rules.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList(),
            snapshot.Document.Triggers.SelectMany(t => t.EventNames).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
    }
}
