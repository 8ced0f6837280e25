using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Projections.Rebuilds;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Projections.Reports;

/// <summary>The campaign and attribution reports: their tables, their inline projection, and their rebuilds.</summary>
public static class ReportsRegistration
{
    public static StoreOptions AddReports(this StoreOptions options)
    {
        options.Storage.ExtendedSchemaObjects.Add(ReportGenerations.Table());
        options.Storage.ExtendedSchemaObjects.Add(CampaignReport.Table());
        options.Storage.ExtendedSchemaObjects.Add(AttributionReport.Table());
        options.Projections.Add(new ReportsProjection(), ProjectionLifecycle.Inline);
        // Receipts may name a message by the provider's id.
        options.Schema.For<ScheduledMessage>().Index(m => m.ProviderMessageId!);
        return options;
    }

    public static IServiceCollection AddReportRebuilds(this IServiceCollection services)
    {
        services.AddSingleton<IRebuildableProjection>(provider => new ReportRebuild(provider.GetRequiredService<IDocumentStore>(),
            CampaignReport.Name, [CampaignReport.TableName], () => new CampaignReport.Rows()));
        services.AddSingleton<IRebuildableProjection>(provider => new ReportRebuild(provider.GetRequiredService<IDocumentStore>(),
            AttributionReport.Name, [AttributionReport.TableName], () => new AttributionReport.Rows()));
        return services;
    }
}
