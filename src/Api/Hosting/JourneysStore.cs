using EventSourcedJourneys.Api.Workspaces;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Projections;
using EventSourcedJourneys.Projections.Rebuilds;
using JasperFx.Events;
using JasperFx.MultiTenancy;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Api.Hosting;

/// <summary>
/// The Marten configuration of the product, in one place: the application's store, and the shadow stores that rebuild
/// a read model into a schema of their own (same events, same serializer, same projections; see ADR 0009).
/// </summary>
public static class JourneysStore
{
    public const string Schema = "journeys";

    public static StoreOptions Configure(StoreOptions options, string connectionString, IClock clock, string documentSchema = Schema)
    {
        options.Connection(connectionString);
        options.DatabaseSchemaName = documentSchema;
        // Events always live in the product's schema, also for a shadow store whose documents live elsewhere.
        options.Events.DatabaseSchemaName = Schema;
        options.UseSystemTextJsonForSerialization(configure: json => JourneysJson.Configure(json));

        // Workspaces are Marten tenants: every event and document carries its workspace id (ADR 0001).
        options.Events.TenancyStyle = TenancyStyle.Conjoined;
        options.Policies.AllDocumentsAreMultiTenanted();
        options.Schema.For<Workspace>().SingleTenanted();
        options.Schema.For<ApiKey>().SingleTenanted();

        options.Events.TimeProvider = new ClockTimeProvider(clock);
        // The reactions subscription (the engine) hears of an append at once by LISTEN/NOTIFY instead of its next
        // high-water poll; polling stays as the safety net.
        options.Events.UseListenNotifyForEventAppends = true;
        options.AddJourneyProjections();
        options.AddJourneyTemplates();
        options.AddProjectionRebuilds();
        return options;
    }
}
