using EventSourcedJourneys.Projections.Reports;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Reports;

/// <summary>The campaign report: the messages that entered triggers in the range, and what became of them.</summary>
public sealed record CampaignReportView(Instant? From, Instant? To, IReadOnlyList<CampaignReportLine> Lines);

public static class GetCampaignReportEndpoint
{
    /// <summary>
    /// Per trigger (name and version), step, channel and variant: messages scheduled in [from, to) and how many were sent,
    /// cancelled, suppressed (by reason), failed, delivered, opened, clicked, bounced, unsubscribed and converted, with the
    /// revenue of their conversions; how many were withheld for the trigger's control group and converted anyway, and the
    /// uplift of the treatment over the control group (docs/reports.md). <c>from</c>/<c>to</c> are ISO-8601 instants; either may be left out.
    /// </summary>
    [WolverineGet("/reports/campaigns", Name = "GetCampaignReport"), Tags("Reports")]
    public static async Task<IResult> Get(string? from, string? to, IMessageContext context, IDocumentStore store, CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        var range = ReportRange.Read(from, to, errors);
        if (errors.Count > 0) return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The campaign report cannot be read so" });
        var lines = await CampaignReportQuery.ReadAsync(store, context.TenantId!, range.From, range.To, null, cancellation);
        return Results.Ok(new CampaignReportView(range.From, range.To, lines));
    }

    /// <summary>The campaign report of one trigger (all its versions); 404 when the workspace has no trigger of that name.</summary>
    [WolverineGet("/reports/campaigns/{trigger}", Name = "GetTriggerCampaignReport"), Tags("Reports")]
    public static async Task<IResult> GetTrigger(string trigger, string? from, string? to, IMessageContext context, IDocumentStore store,
        IQuerySession session, CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        var range = ReportRange.Read(from, to, errors);
        if (errors.Count > 0) return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The campaign report cannot be read so" });
        if (!await session.Query<RuleState>().AnyAsync(r => r.Name == trigger, cancellation)
            && !await CampaignReportQuery.KnowsTriggerAsync(store, context.TenantId!, trigger, cancellation))
            return Results.Problem(new ProblemDetails { Status = 404, Title = "No such trigger", Detail = $"The workspace has no trigger '{trigger}'." });
        var lines = await CampaignReportQuery.ReadAsync(store, context.TenantId!, range.From, range.To, trigger, cancellation);
        return Results.Ok(new CampaignReportView(range.From, range.To, lines));
    }
}
