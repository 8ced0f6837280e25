using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Rules;

/// <summary>A whole rules document: every rule in it gets a new draft version if its text changed; all or nothing.</summary>
public sealed record SaveRuleDocument(string? Text);

public sealed record SavedRuleDocument(IReadOnlyList<SavedRule> Rules);

public static class SaveRuleDocumentEndpoint
{
    [WolverinePut("/rules", Name = "SaveRuleDocument")]
    [Tags("Rules")]
    public static async Task<IResult> Put(SaveRuleDocument body, IDocumentSession session, IClock clock, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(body.Text))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["text"] = ["The document's DSL text is required."] });
        if (body.Text.Length > RuleCompiler.MaxDocumentLength)
            return Results.Problem(RuleTexts.Problem(413, "The document is too long", $"A rules document may have at most {RuleCompiler.MaxDocumentLength:N0} characters."));

        var text = body.Text.Replace("\r\n", "\n");
        var defined = RuleCompiler.Compile(text).Rules.Select(RuleTexts.ApiName).ToHashSet(StringComparer.Ordinal);
        var context = await RuleTexts.DraftContextAsync(session, defined, cancellation);
        var (diagnostics, rules) = RuleTexts.CompileInContext(text, context);
        if (diagnostics.Count > 0)
            return Results.Problem(RuleTexts.Problem(422, "The document does not compile", "No rule was saved.", diagnostics));
        if (rules.Count == 0)
            return Results.Problem(RuleTexts.Problem(422, "The document defines no rule", "No rule was saved."));

        var saved = new List<SavedRule>();
        var now = clock.GetCurrentInstant();
        foreach (var source in RuleTexts.Split(text, rules))
        {
            var stream = await session.Events.FetchForWriting<RuleState>(RuleIds.For(source.Name), cancellation);
            var current = stream.Aggregate;
            var latest = current?.LatestVersion ?? 0;
            if (current is not null && current.Kind != source.Kind && current.Status != RuleStatus.Archived)
                return Results.Problem(RuleTexts.Problem(422, "A rule cannot change kind",
                    $"Rule '{source.Name}' (line {source.Line}) is a {current.Kind}; archive it before defining a {source.Kind} with that name. No rule was saved."));

            var hash = RuleTexts.Hash(source.Text);
            if (current is not null && current.Status != RuleStatus.Archived && current.Versions[^1].ContentHash == hash)
            {
                saved.Add(new SavedRule(source.Name, source.Kind, latest, hash, Changed: false));
                continue;
            }
            stream.AppendOne(new RuleVersionSaved(stream.Id, source.Name, source.Kind, latest + 1, source.Text, hash, now));
            saved.Add(new SavedRule(source.Name, source.Kind, latest + 1, hash, Changed: true));
        }

        try
        {
            await session.SaveChangesAsync(cancellation);
        }
        catch (Exception e) when (RuleConflicts.IsConflict(e))
        {
            // Nothing of the refused change may be retried by the transactional middleware after this endpoint.
            session.EjectAllPendingChanges();
            return Results.Problem(RuleTexts.Problem(409, "Rules changed in the meantime",
                "Another change to some of these rules was saved first; reload and try again. No rule was saved."));
        }
        return Results.Ok(new SavedRuleDocument(saved));
    }
}
