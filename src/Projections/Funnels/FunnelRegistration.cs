using EventSourcedJourneys.Projections.Rebuilds;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Projections.Funnels;

public static class FunnelRegistration
{
    /// <summary>The live funnel projection (async daemon) and the funnel documents.</summary>
    public static StoreOptions AddFunnels(this StoreOptions options)
    {
        options.Schema.For<FunnelDefinition>();
        options.Storage.ExtendedSchemaObjects.AddRange(new FunnelStore(options.DatabaseSchemaName).SchemaObjects());
        options.Projections.Add(new FunnelProjection(), ProjectionLifecycle.Async, FunnelProjection.Name,
            asyncConfiguration: async => async.BatchSize = 2000);
        return options;
    }

    /// <summary>The rebuild of funnels (on publish and on request), also listed as a rebuildable projection, and the
    /// in-memory indexes reports are answered from (ADR 0017).</summary>
    public static IServiceCollection AddFunnelRebuilds(this IServiceCollection services)
    {
        services.AddSingleton<FunnelRebuilder>();
        services.AddSingleton<FunnelIndexes>();
        services.AddSingleton<IRebuildableProjection>(provider => provider.GetRequiredService<FunnelRebuilder>());
        return services;
    }
}
