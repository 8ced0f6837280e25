using EventSourcedJourneys.Projections.Messages;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourcedJourneys.Projections;

/// <summary>Every read model of the product, registered in one place.</summary>
public static class JourneyProjections
{
    public static StoreOptions AddJourneyProjections(this StoreOptions options)
    {
        options.Projections.Add<ScheduledMessageProjection>(ProjectionLifecycle.Inline);
        return options;
    }
}
