using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace EventSourcedJourneys.Projections.Reports;

/// <summary>
/// Keeps the campaign and attribution read models in step with the events, in the transaction that appends them
/// (inline): a report never lags the decisions it counts. Writes go to every live generation (ADR 0010).
/// </summary>
public sealed class ReportsProjection : IProjection
{
    public static IReportRows[] NewRows() => [new CampaignReport.Rows(), new AttributionReport.Rows()];

    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var rows = NewRows();
        foreach (var e in events)
        {
            foreach (var model in rows) model.Add(e.TenantId ?? operations.TenantId, e.Data);
        }
        foreach (var model in rows.Where(r => !r.IsEmpty))
        {
            operations.QueueSqlCommand(ReportGenerations.EnsureRowStatement(model.ReadModel));
            var (sql, parameters) = model.Upsert(ReportGenerations.LiveGenerationsSql(model.ReadModel));
            operations.QueueSqlCommand(sql, parameters);
        }
        return Task.CompletedTask;
    }
}
