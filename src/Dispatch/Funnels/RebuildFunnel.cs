using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Projections.Funnels;
using JasperFx.Events;

namespace EventSourcedJourneys.Dispatch.Funnels;

/// <summary>Compute a funnel's data from history with its live definition (a durable local message).</summary>
public sealed record RebuildFunnel(string Workspace, string Name, int Version);

/// <summary>A funnel published with a new version is rebuilt from history in the background; reports keep reading the
/// previous version's data until the new one is complete.</summary>
public static class RebuildFunnelHandler
{
    public static RebuildFunnel? Handle(IEvent<RuleVersionPublished> e) =>
        e.Data.Kind == "funnel" ? new RebuildFunnel(e.TenantId, e.Data.Name, e.Data.Version) : null;

    public static Task Handle(RebuildFunnel command, FunnelRebuilder rebuilder, CancellationToken cancellation) =>
        rebuilder.RebuildFunnelAsync(command.Workspace, command.Name, null, cancellation);
}
