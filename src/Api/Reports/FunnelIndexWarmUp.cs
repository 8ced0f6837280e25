using EventSourcedJourneys.Api.Workspaces;
using EventSourcedJourneys.Projections.Funnels;
using Marten;

namespace EventSourcedJourneys.Api.Reports;

/// <summary>
/// At start, loads the in-memory index of every published funnel of every workspace (ADR 0017), one after the other in
/// the background, so that the first reports after a start are answered from memory instead of by the slow SQL path.
/// Off with <c>Journeys:Funnels:WarmIndexesAtStart=false</c> (each index then loads at its first report).
/// </summary>
public sealed class FunnelIndexWarmUp(IDocumentStore store, FunnelIndexes indexes, IHostApplicationLifetime lifetime, IConfiguration configuration,
    ILogger<FunnelIndexWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue("Journeys:Funnels:WarmIndexesAtStart", true)) return;
        // After the start: the database is open and its schema applied.
        var started = new TaskCompletionSource();
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stoppingToken);
        try
        {
            await WarmAllAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Loading the funnel indexes at start failed; each loads at its first report instead");
        }
    }

    /// <summary>Loads every published funnel's index; returns how many funnels it loaded.</summary>
    public async Task<int> WarmAllAsync(CancellationToken cancellation)
    {
        IReadOnlyList<string> workspaces;
        await using (var session = store.QuerySession())
            workspaces = await session.Query<Workspace>().Select(w => w.Id).ToListAsync(cancellation);
        var warmed = 0;
        foreach (var workspace in workspaces)
        {
            IReadOnlyList<FunnelDefinition> funnels;
            await using (var session = store.QuerySession(workspace))
                funnels = await session.Query<FunnelDefinition>().ToListAsync(cancellation);
            foreach (var funnel in funnels.Where(f => f.Active is not null))
            {
                await indexes.WarmAsync(store, workspace, funnel).WaitAsync(cancellation);
                warmed++;
            }
        }
        return warmed;
    }
}
