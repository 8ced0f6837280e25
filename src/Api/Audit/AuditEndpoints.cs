using System.Text.Json;
using EventSourcedJourneys.Api.Workspaces;
using EventSourcedJourneys.Dispatch.Audit;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Time;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Audit;

/// <summary>A page of decisions not to send; <paramref name="Next"/> is the <c>after</c> of the following page.</summary>
public sealed record ContactDecisionPage(Guid ContactId, IReadOnlyList<MessageExplanation> Decisions, long? Next);

/// <summary>Why a message was — or was not — sent, replayed from the store (docs/audit.md).</summary>
public static class AuditEndpoints
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 100;
    private static readonly JsonSerializerOptions LineForm = JourneysJson.Create();
    private static readonly ReadOnlyMemory<byte> LineEnd = "\n"u8.ToArray();

    [WolverineGet("/messages/{messageId}/explanation", Name = "ExplainMessage")]
    [Tags("Audit"), Authorize(Policy = ApiKeyPolicies.Audit)]
    [ProducesResponseType<MessageExplanation>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Explain(Guid messageId, IQuerySession session, IDocumentStore store, WorkspaceRegistry workspaces,
        CancellationToken cancellation)
    {
        var contactId = await AuditTrails.ContactOfMessageAsync(session, store, messageId, cancellation);
        var trail = contactId is { } id ? await AuditTrails.LoadAsync(session, store, id, cancellation) : null;
        var explanation = trail is null ? null : await ExplainAsync(trail, messageId, session.TenantId, workspaces, cancellation);
        return explanation is null
            ? Results.Problem(new ProblemDetails { Status = 404, Title = "No such message", Detail = $"The workspace recorded no decision about message '{messageId}'." })
            : Results.Ok(explanation);
    }

    /// <summary>
    /// Every message of the contact that was cancelled, suppressed or withheld for a control group (optionally of one <c>rule</c>), each explained and
    /// replayed as <c>/messages/{id}/explanation</c> does, in log order; <c>limit</c> (1–100, default 20) and <c>after</c>
    /// (the previous page's <c>next</c>) page through them.
    /// </summary>
    [WolverineGet("/contacts/{contactId}/decisions", Name = "GetContactDecisions")]
    [Tags("Audit"), Authorize(Policy = ApiKeyPolicies.Audit)]
    [ProducesResponseType<ContactDecisionPage>(StatusCodes.Status200OK)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Decisions(Guid contactId, string? rule, int? limit, long? after, IQuerySession session, IDocumentStore store,
        WorkspaceRegistry workspaces, CancellationToken cancellation)
    {
        if (limit is < 1 or > MaxLimit)
            return Results.Problem(new ValidationProblemDetails(new Dictionary<string, string[]> { ["limit"] = [$"Between 1 and {MaxLimit}."] })
                { Status = 400, Title = "The decisions cannot be listed so" });
        var trail = await AuditTrails.LoadAsync(session, store, contactId, cancellation);
        if (trail is null)
            return Results.Problem(new ProblemDetails { Status = 404, Title = "No such contact", Detail = $"The workspace has no contact '{contactId}'." });

        var take = limit ?? DefaultLimit;
        var page = new List<MessageExplanation>();
        long? next = null;
        var messages = trail.Decisions.GroupBy(e => ((IMessageEvent)e.Data).MessageId).Select(g => (Id: g.Key, First: g.First().Sequence))
            .Where(m => after is null || m.First > after).OrderBy(m => m.First);
        foreach (var (id, first) in messages)
        {
            var explanation = await ExplainAsync(trail, id, session.TenantId, workspaces, cancellation);
            if (explanation is null || explanation.Outcome is not ("cancelled" or "suppressed" or "withheld")) continue;
            if (rule is not null && explanation.Rule?.Name != rule) continue;
            if (page.Count == take)
            {
                next = page[^1].Decisions[0].Sequence;
                break;
            }
            page.Add(explanation);
        }
        return Results.Ok(new ContactDecisionPage(trail.ContactId, page, next));
    }

    /// <summary>
    /// The recorded decisions of a contact (<c>contactId</c>) or of a rule (<c>rule</c>), decided in [<c>from</c>, <c>to</c>),
    /// as JSON lines (<c>application/x-ndjson</c>), in log order. The fields are documented in docs/audit.md. With
    /// <c>replay=true</c> each decision is replayed too and its line says whether the replay <c>reproduced</c> it.
    /// </summary>
    [WolverineGet("/audit/decisions", Name = "ExportDecisions")]
    [Tags("Audit"), Authorize(Policy = ApiKeyPolicies.Audit)]
    [ProducesResponseType<AuditLine>(StatusCodes.Status200OK, "application/x-ndjson")] // one AuditLine per line
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public static async Task<IResult> Export(Guid? contactId, string? rule, string? from, string? to, bool? replay, IQuerySession session,
        IDocumentStore store, WorkspaceRegistry workspaces, CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        if (contactId is null == rule is null) errors["contactId"] = ["Pass either contactId or rule."];
        var fromTime = ParseInstant(from, "from", errors);
        var toTime = ParseInstant(to, "to", errors);
        if (errors.Count > 0) return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The decisions cannot be exported so" });

        IEnumerable<LoggedEvent> decisions;
        if (contactId is { } id)
        {
            var trail = await AuditTrails.LoadAsync(session, store, id, cancellation);
            if (trail is null)
                return Results.Problem(new ProblemDetails { Status = 404, Title = "No such contact", Detail = $"The workspace has no contact '{id}'." });
            decisions = trail.Decisions;
        }
        else decisions = await AuditTrails.DecisionsOfRuleAsync(session, store, rule!, cancellation);

        var lines = AuditExport.Lines(decisions, fromTime, toTime).ToList();
        if (replay == true)
        {
            var explanations = new List<MessageExplanation>();
            foreach (var contact in lines.GroupBy(l => l.ContactId))
            {
                if (await AuditTrails.LoadAsync(session, store, contact.Key, cancellation) is not { } trail) continue;
                foreach (var message in contact.Select(l => l.MessageId).Distinct())
                {
                    if (await ExplainAsync(trail, message, session.TenantId, workspaces, cancellation) is { } explanation) explanations.Add(explanation);
                }
            }
            var verdicts = AuditExport.Verdicts(explanations);
            lines = lines.Select(l => verdicts.TryGetValue(l.Sequence, out var reproduced) ? l with { Reproduced = reproduced } : l).ToList();
        }
        return Results.Stream(async stream =>
        {
            foreach (var line in lines)
            {
                await JsonSerializer.SerializeAsync(stream, line, LineForm, cancellation);
                // Kestrel refuses synchronous writes: a WriteByte here broke the export after its first line.
                await stream.WriteAsync(LineEnd, cancellation);
            }
        }, "application/x-ndjson");
    }

    private static async Task<MessageExplanation?> ExplainAsync(AuditTrail trail, Guid messageId, string workspace, WorkspaceRegistry workspaces,
        CancellationToken cancellation)
    {
        var zone = await workspaces.TimeZoneOfAsync(workspace, cancellation);
        var webhook = (await workspaces.FindAsync(workspace, cancellation))?.WebhookUrl;
        return DecisionReplay.Explain(trail, messageId, workspace, zone, webhook);
    }

    private static Instant? ParseInstant(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var parsed = OffsetDateTimePattern.ExtendedIso.Parse(text);
        if (parsed.Success) return parsed.Value.ToInstant();
        errors[field] = [$"'{text}' is not an ISO-8601 instant such as 2026-12-01T09:30:00Z."];
        return null;
    }
}
