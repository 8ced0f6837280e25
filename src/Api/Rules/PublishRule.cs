using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Rules;

public sealed record RuleStatusChanged(string Name, string Status, int? PublishedVersion, bool Changed);

/// <summary>Publish, pause, resume and archive: each a checked event on the rule's stream.</summary>
public static class RuleLifecycleEndpoints
{
    [WolverinePost("/rules/{name}/publish", Name = "PublishRule")]
    [Tags("Rules")]
    public static async Task<IResult> Publish(string name, int? version, IDocumentSession session, IClock clock, CancellationToken cancellation)
    {
        await LiveRulesLock.TakeAsync(session, cancellation);
        var stream = await session.Events.FetchForWriting<RuleState>(RuleIds.For(name), cancellation);
        if (stream.Aggregate is not { } rule) return NotFound(name);
        if (rule.Status == RuleStatus.Archived)
            return Conflict("The rule is archived", $"Rule '{name}' is archived; save a new version to revive it, then publish that.");

        var number = version ?? rule.LatestVersion;
        if (rule.Version(number) is not { } chosen)
            return Results.Problem(RuleTexts.Problem(404, "No such version",
                $"Rule '{name}' has no version {number}; its versions are 1 to {rule.LatestVersion}."));
        if (rule.PublishedVersion == number)
            return Results.Ok(new RuleStatusChanged(name, Status(rule.Status), number, Changed: false));

        var live = await LiveSetAsync(session, cancellation);
        var others = live.Rules.Values.Where(r => r.Name != name).Select(r => r.Text).ToList();
        if (Breaks(chosen.Text, others, out var problem, name, "publishing version " + number)) return Results.Problem(problem!);

        stream.AppendOne(new RuleVersionPublished(rule.Id, name, rule.Kind, number, chosen.Text, chosen.ContentHash, clock.GetCurrentInstant()));
        return await SaveAsync(session, name, number, "live", cancellation);
    }

    [WolverinePost("/rules/{name}/pause", Name = "PauseRule")]
    [Tags("Rules")]
    public static async Task<IResult> Pause(string name, IDocumentSession session, IClock clock, CancellationToken cancellation)
    {
        await LiveRulesLock.TakeAsync(session, cancellation);
        var stream = await session.Events.FetchForWriting<RuleState>(RuleIds.For(name), cancellation);
        if (stream.Aggregate is not { } rule) return NotFound(name);
        if (rule.Kind != "trigger")
            return Conflict("Only triggers can be paused", $"Rule '{name}' is a {rule.Kind}; publish a new version or archive it instead.");
        if (rule.Status == RuleStatus.Paused) return Results.Ok(new RuleStatusChanged(name, "paused", rule.PublishedVersion, Changed: false));
        if (rule.Status != RuleStatus.Live)
            return Conflict("The rule is not live", $"Rule '{name}' is {Status(rule.Status)}; only a live trigger can be paused.");

        stream.AppendOne(new RulePaused(rule.Id, name, clock.GetCurrentInstant()));
        return await SaveAsync(session, name, rule.PublishedVersion, "paused", cancellation);
    }

    [WolverinePost("/rules/{name}/resume", Name = "ResumeRule")]
    [Tags("Rules")]
    public static async Task<IResult> Resume(string name, IDocumentSession session, IClock clock, CancellationToken cancellation)
    {
        await LiveRulesLock.TakeAsync(session, cancellation);
        var stream = await session.Events.FetchForWriting<RuleState>(RuleIds.For(name), cancellation);
        if (stream.Aggregate is not { } rule) return NotFound(name);
        if (rule.Status == RuleStatus.Live) return Results.Ok(new RuleStatusChanged(name, "live", rule.PublishedVersion, Changed: false));
        if (rule.Status != RuleStatus.Paused)
            return Conflict("The rule is not paused", $"Rule '{name}' is {Status(rule.Status)}; only a paused trigger can be resumed.");

        stream.AppendOne(new RuleResumed(rule.Id, name, clock.GetCurrentInstant()));
        return await SaveAsync(session, name, rule.PublishedVersion, "live", cancellation);
    }

    [WolverinePost("/rules/{name}/archive", Name = "ArchiveRule")]
    [Tags("Rules")]
    public static async Task<IResult> Archive(string name, IDocumentSession session, IClock clock, CancellationToken cancellation)
    {
        await LiveRulesLock.TakeAsync(session, cancellation);
        var stream = await session.Events.FetchForWriting<RuleState>(RuleIds.For(name), cancellation);
        if (stream.Aggregate is not { } rule) return NotFound(name);
        if (rule.Status == RuleStatus.Archived)
            return Conflict("The rule is already archived", $"Rule '{name}' was archived at {rule.UpdatedAt}; nothing was changed.");

        var live = await LiveSetAsync(session, cancellation);
        if (live.Rules.ContainsKey(name))
        {
            var remaining = RuleCompiler.Compile(string.Join("\n\n",
                live.Rules.Values.Where(r => r.Name != name).OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => r.Text)));
            if (!remaining.Succeeded)
                return Results.Problem(RuleTexts.Problem(409, "Other live rules depend on this one",
                    $"Archiving '{name}' would leave the live rules broken: " +
                    string.Join(" ", remaining.Diagnostics.Take(5).Select(d => d.Message + "."))));
        }

        stream.AppendOne(new RuleArchived(rule.Id, name, clock.GetCurrentInstant()));
        return await SaveAsync(session, name, null, "archived", cancellation);
    }

    internal static async Task<LiveRuleSet> LiveSetAsync(IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<LiveRuleSet>(LiveRuleSet.DocumentId, cancellation) ?? new LiveRuleSet();

    /// <summary>True (with the problem) when <paramref name="text"/> cannot live beside the other live rules.</summary>
    internal static bool Breaks(string text, IReadOnlyList<string> otherLiveTexts, out ProblemDetails? problem, string name, string action)
    {
        var (own, _) = RuleTexts.CompileInContext(text, otherLiveTexts);
        if (own.Count > 0)
        {
            problem = RuleTexts.Problem(409, "The rule cannot go live", $"{Capitalised(action)} of '{name}' was refused.", own);
            return true;
        }
        var all = RuleCompiler.Compile(string.Join("\n\n", otherLiveTexts.Prepend(text)));
        if (!all.Succeeded)
        {
            problem = RuleTexts.Problem(409, "Other live rules would break",
                $"{Capitalised(action)} of '{name}' was refused: " + string.Join(" ", all.Diagnostics.Take(5).Select(d => d.Message + ".")));
            return true;
        }
        problem = null;
        return false;
    }

    private static string Capitalised(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    private static async Task<IResult> SaveAsync(IDocumentSession session, string name, int? version, string status, CancellationToken cancellation)
    {
        try
        {
            await session.SaveChangesAsync(cancellation);
        }
        catch (Exception e) when (RuleConflicts.IsConflict(e))
        {
            // Nothing of the refused change may be retried by the transactional middleware after this endpoint.
            session.EjectAllPendingChanges();
            return Conflict("The rule changed in the meantime", $"Rule '{name}' was changed by someone else; reload it and try again.");
        }
        return Results.Ok(new RuleStatusChanged(name, status, version, Changed: true));
    }

    internal static string Status(RuleStatus status) => status.ToString().ToLowerInvariant();

    internal static IResult NotFound(string name) =>
        Results.Problem(RuleTexts.Problem(404, "No such rule", $"This workspace has no rule named '{name}'."));

    private static IResult Conflict(string title, string detail) => Results.Problem(RuleTexts.Problem(409, title, detail));
}
