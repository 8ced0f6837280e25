using EventSourcedJourneys.Projections.Inbox;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Projections.Reports;
using EventSourcedJourneys.Projections.Rules;
using EventSourcedJourneys.Projections.Segments;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourcedJourneys.Projections;

/// <summary>Every read model of the product, registered in one place.</summary>
public static class JourneyProjections
{
    public static StoreOptions AddJourneyProjections(this StoreOptions options)
    {
        options.Projections.Add<ScheduledMessageProjection>(ProjectionLifecycle.Inline);
        options.Projections.Add<ContactDeliveryLogProjection>(ProjectionLifecycle.Inline);
        options.Projections.Add<InboxProjection>(ProjectionLifecycle.Inline);
        options.Projections.Snapshot<RuleState>(SnapshotLifecycle.Inline);
        options.Projections.Add<LiveRuleSetProjection>(ProjectionLifecycle.Inline);
        options.AddContactProfiles();
        options.AddFunnels();
        options.AddReports();
        options.AddSegmentMemberships();
        return options;
    }
}
