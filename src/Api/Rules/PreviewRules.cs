using EventSourcedJourneys.Dispatch.Preview;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Rules;

/// <summary>A draft (a rules document with at least one trigger) and the range of stored events to replay through it.</summary>
public sealed record PreviewRules(string? Text, Instant? From, Instant? To);

/// <summary>A preview as the API shows it (the compiled text is left out: it is the draft plus <see cref="Context"/>).</summary>
public sealed record RulePreviewView(
    Guid Id,
    PreviewStatus Status,
    Instant RequestedAt,
    Instant? StartedAt,
    Instant? CompletedAt,
    Instant From,
    Instant To,
    Instant? Horizon,
    IReadOnlyList<PreviewedTrigger> Triggers,
    IReadOnlyList<PreviewContextRule> Context,
    PreviewProgress Progress,
    PreviewResult? Result,
    string? Error)
{
    public static RulePreviewView Of(RulePreview p) => new(p.Id, p.Status, p.RequestedAt, p.StartedAt, p.CompletedAt, p.From, p.To, p.Horizon,
        p.Triggers, p.Context, p.Progress, p.Result, p.Error);
}

public static class PreviewRulesEndpoint
{
    public static readonly Duration LongestRange = Duration.FromDays(400);

    /// <summary>
    /// Replays the stored events of [from, to) through the draft as if it had been published at <c>from</c>, in the
    /// background: 202 with the preview's address; GET it for progress and the result. Nothing is sent or appended.
    /// </summary>
    [WolverinePost("/rules/preview", Name = "PreviewRules")]
    [Tags("Rules")]
    public static async Task<IResult> Post(PreviewRules body, IDocumentSession session, IMessageBus bus, IClock clock,
        CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.Text)) errors["text"] = ["The draft's DSL text is required."];
        if (body.From is null) errors["from"] = ["The start of the range (an instant, e.g. \"2026-11-01T00:00:00Z\") is required."];
        if (body.To is null) errors["to"] = ["The end of the range (an instant, excluded) is required."];
        if (body.From is { } f && body.To is { } t)
        {
            if (t <= f) errors["to"] = ["Must be after 'from'."];
            else if (t - f > LongestRange) errors["to"] = [$"The range may span at most {LongestRange.Days} days; it spans {(t - f).TotalDays:0.#}."];
        }
        if (errors.Count > 0)
            return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The preview cannot run" });
        if (body.Text!.Length > RuleCompiler.MaxDocumentLength)
            return Results.Problem(RuleTexts.Problem(413, "The draft is too long", $"A rules document may have at most {RuleCompiler.MaxDocumentLength:N0} characters."));

        var text = body.Text.Replace("\r\n", "\n").Trim('\n');
        var defined = RuleCompiler.Compile(text).Rules.Select(RuleTexts.ApiName).ToHashSet(StringComparer.Ordinal);
        var saved = (await session.Query<RuleState>().ToListAsync(cancellation))
            .Where(r => r.Status != RuleStatus.Archived && !defined.Contains(r.Name)).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        var context = saved.Select(r => r.Versions[^1].Text).ToList();
        var (diagnostics, rules) = RuleTexts.CompileInContext(text, context);
        if (diagnostics.Count > 0)
            return Results.Problem(RuleTexts.Problem(422, "The draft does not compile", "Nothing was previewed.", diagnostics));
        var triggers = RuleTexts.Split(text, rules).Where(r => r.Kind == RuleTexts.KindName(RuleKind.Trigger)).ToList();
        if (triggers.Count == 0)
            return Results.Problem(RuleTexts.Problem(422, "The draft defines no trigger",
                "A preview replays events through the draft's triggers; add at least one trigger (segments and policies it uses may come with it)."));

        var preview = new RulePreview
        {
            Id = Guid.CreateVersion7(),
            Status = PreviewStatus.Queued,
            RequestedAt = clock.GetCurrentInstant(),
            From = body.From!.Value,
            To = body.To!.Value,
            Text = text,
            CompiledText = context.Count == 0 ? text : text + "\n\n" + string.Join("\n\n", context),
            Triggers = triggers.Select(t => new PreviewedTrigger(t.Name, RuleTexts.Hash(t.Text))).ToList(),
            Context = saved.Select(r => new PreviewContextRule(r.Name, r.Kind, r.LatestVersion)).ToList(),
        };
        session.Store(preview);
        // Sent through the outbox: the run starts once the preview document is committed.
        await bus.PublishAsync(new RunRulePreview(session.TenantId, preview.Id));
        return Results.Accepted($"/rules/previews/{preview.Id}", RulePreviewView.Of(preview));
    }
}
