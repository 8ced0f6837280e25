using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Rules;

/// <summary>A new draft version of one rule: its DSL text, and optionally the version it was edited from.</summary>
public sealed record SaveRule(string? Text, int? ExpectedVersion);

public sealed record SavedRule(string Name, string Kind, int Version, string ContentHash, bool Changed);

public static class SaveRuleEndpoint
{
    [WolverinePut("/rules/{name}", Name = "SaveRule")]
    [Tags("Rules")]
    public static async Task<IResult> Put(string name, SaveRule body, HttpRequest request, IDocumentSession session,
        IClock clock, CancellationToken cancellation)
    {
        if (!RuleTexts.IsValidName(name))
            return Results.Problem(RuleTexts.Problem(400, "Not a rule name",
                $"'{name}' is not a valid rule name: use letters, digits and '_', starting with a letter or '_' (at most {RuleTexts.MaxNameLength})."));
        if (string.IsNullOrWhiteSpace(body.Text))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["text"] = ["The rule's DSL text is required."] });
        if (body.Text.Length > RuleCompiler.MaxDocumentLength)
            return Results.Problem(RuleTexts.Problem(413, "The rule text is too long", $"A rule text may have at most {RuleCompiler.MaxDocumentLength:N0} characters."));

        var text = body.Text.Replace("\r\n", "\n").Trim('\n');
        var context = await RuleTexts.DraftContextAsync(session, new HashSet<string> { name }, cancellation);
        var (diagnostics, rules) = RuleTexts.CompileInContext(text, context);
        if (diagnostics.Count > 0)
            return Results.Problem(RuleTexts.Problem(422, "The rule does not compile", $"Rule '{name}' was not saved.", diagnostics));
        if (rules.Count != 1 || RuleTexts.ApiName(rules[0]) != name)
            return Results.Problem(RuleTexts.Problem(422, "The text must define exactly this rule",
                $"PUT /rules/{name} takes the text of one rule named '{name}'; this text defines " +
                (rules.Count == 0 ? "none." : string.Join(", ", rules.Select(r => $"'{RuleTexts.ApiName(r)}'")) + ". Use PUT /rules for a whole document.")));

        var kind = RuleTexts.KindName(rules[0].Kind);
        var stream = await session.Events.FetchForWriting<RuleState>(RuleIds.For(name), cancellation);
        var current = stream.Aggregate;
        var latest = current?.LatestVersion ?? 0;
        var expected = RuleConflicts.Expected(body.ExpectedVersion, request);
        if (expected is not null && expected != latest) return Results.Problem(RuleConflicts.Stale(name, expected, latest));
        if (current is not null && current.Kind != kind && current.Status != RuleStatus.Archived)
            return Results.Problem(RuleTexts.Problem(422, "A rule cannot change kind",
                $"Rule '{name}' is a {current.Kind}; archive it before defining a {kind} with that name."));

        var hash = RuleTexts.Hash(text);
        if (current is not null && current.Status != RuleStatus.Archived && current.Versions[^1].ContentHash == hash)
            return Results.Ok(new SavedRule(name, kind, latest, hash, Changed: false));

        stream.AppendOne(new RuleVersionSaved(stream.Id, name, kind, latest + 1, text, hash, clock.GetCurrentInstant()));
        try
        {
            await session.SaveChangesAsync(cancellation);
        }
        catch (Exception e) when (RuleConflicts.IsConflict(e))
        {
            // Nothing of the refused change may be retried by the transactional middleware after this endpoint.
            session.EjectAllPendingChanges();
            return Results.Problem(RuleConflicts.Stale(name, expected, latest + 1));
        }
        return Results.Created($"/rules/{name}/versions/{latest + 1}", new SavedRule(name, kind, latest + 1, hash, Changed: true));
    }
}
