using EventSourcedJourneys.Projections.Reports;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Reports;

/// <summary>The attribution report; each line carries its trigger's uplift over its control group, or null with a note saying why.</summary>
public sealed record AttributionReportView(string Model, Instant? From, Instant? To, IReadOnlyList<AttributionReportLine> Lines);

public static class GetAttributionReportEndpoint
{
    /// <summary>
    /// Conversions whose goal event happened in [from, to), credited to the messages that led to them per trigger and channel
    /// by the model: <c>last-touch</c> (default), <c>first-touch</c> or <c>linear</c> (docs/reports.md).
    /// </summary>
    [WolverineGet("/reports/attribution", Name = "GetAttributionReport"), Tags("Reports")]
    public static async Task<IResult> Get(string? model, string? from, string? to, IMessageContext context, IDocumentStore store,
        CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        var name = string.IsNullOrWhiteSpace(model) ? "last-touch" : model.Trim();
        if (!AttributionReport.ModelNames.TryGetValue(name, out var chosen))
            errors["model"] = [$"Unknown model '{model}'; use {string.Join(", ", AttributionReport.ModelNames.Keys)}."];
        var range = ReportRange.Read(from, to, errors);
        if (errors.Count > 0) return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The attribution report cannot be read so" });
        var lines = await AttributionReportQuery.ReadAsync(store, context.TenantId!, chosen, range.From, range.To, cancellation);
        return Results.Ok(new AttributionReportView(name, range.From, range.To, lines));
    }
}
