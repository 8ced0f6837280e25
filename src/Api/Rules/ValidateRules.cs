using EventSourcedJourneys.Dsl;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Rules;

public sealed record ValidateRules(string? Text);

public sealed record FoundRule(string Name, string Kind, int Line);

/// <summary>The outcome of checking a text: it is an answer, not an error, so it comes back with 200 either way.</summary>
public sealed record RulesValidation(bool Valid, IReadOnlyList<DiagnosticView> Diagnostics, IReadOnlyList<FoundRule> Rules);

public static class ValidateRulesEndpoint
{
    /// <summary>Checks a text as it would be saved: references to the workspace's other rules resolve.</summary>
    [WolverinePost("/rules/validate", Name = "ValidateRules")]
    [Tags("Rules")]
    public static async Task<IResult> Post(ValidateRules body, IQuerySession session, CancellationToken cancellation)
    {
        var text = (body.Text ?? "").Replace("\r\n", "\n");
        if (text.Length > RuleCompiler.MaxDocumentLength)
            return Results.Problem(RuleTexts.Problem(413, "The document is too long", $"A rules document may have at most {RuleCompiler.MaxDocumentLength:N0} characters."));

        var defined = RuleCompiler.Compile(text).Rules.Select(RuleTexts.ApiName).ToHashSet(StringComparer.Ordinal);
        var context = await RuleTexts.DraftContextAsync(session, defined, cancellation);
        var (diagnostics, rules) = RuleTexts.CompileInContext(text, context);
        return Results.Ok(new RulesValidation(diagnostics.Count == 0,
            diagnostics.Select(DiagnosticView.From).ToList(),
            rules.Select(r => new FoundRule(RuleTexts.ApiName(r), RuleTexts.KindName(r.Kind), r.Line)).ToList()));
    }
}
