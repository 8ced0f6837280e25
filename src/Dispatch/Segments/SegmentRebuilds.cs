using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Projections.Rules;
using EventSourcedJourneys.Projections.Segments;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using Npgsql;
using Wolverine;
using Wolverine.Marten;
using Wolverine.Runtime.Handlers;

namespace EventSourcedJourneys.Dispatch.Segments;

/// <summary>Bring the workspace's segment memberships in line with the published definitions (durable, so a rebuild
/// cut short by a restart runs again).</summary>
public sealed record RebuildStaleSegments(string Workspace);

/// <summary>
/// Rebuilds segment memberships blue/green (ADR 0011): each segment to rebuild gets a new generation of rows, computed
/// from history by <see cref="SegmentRecompute"/> while reads and the live engine keep using the current one; then one
/// transaction makes the new generation current (and records the size change in the history), the old rows go, contacts
/// whose events arrived meanwhile are reviewed, and the time reviews the recompute found are planned. One rebuild runs at
/// a time on a node.
/// </summary>
public sealed class SegmentRebuilds(IDocumentStore store, LiveRules live, SegmentRecompute recompute, IServiceProvider services, IClock clock,
    ILogger<SegmentRebuilds> logger) : IRebuildableProjection
{
    /// <summary>Events committed out of sequence order around the high-water mark are caught by reviewing this many
    /// sequence numbers before it again (reviews are idempotent).</summary>
    private const long InFlightMargin = 1_000;

    private const int Batch = 1_000;

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public string Name => "segments";

    /// <summary>Every segment of every workspace, from scratch.</summary>
    public async Task RebuildAsync(IProgress<RebuildProgress> progress, CancellationToken cancellation)
    {
        foreach (var workspace in await WorkspacesAsync(cancellation))
            await RebuildAsync(workspace, onlyStale: false, progress, cancellation);
    }

    /// <summary>The segments whose published definition differs from the one they were built from (or never built).</summary>
    public Task RebuildStaleAsync(string workspace, CancellationToken cancellation) =>
        RebuildAsync(workspace, onlyStale: true, progress: null, cancellation);

    private async Task RebuildAsync(string workspace, bool onlyStale, IProgress<RebuildProgress>? progress, CancellationToken cancellation)
    {
        await _oneAtATime.WaitAsync(cancellation);
        try
        {
            var set = LiveSegments.Of(await live.ForWorkspaceAsync(workspace, cancellation));
            await using var session = store.LightweightSession(workspace);
            var catalog = await session.LoadAsync<SegmentCatalog>(SegmentCatalog.DocumentId, cancellation) ?? new SegmentCatalog();
            var targets = set.Segments
                .Where(s => !onlyStale || !catalog.Current.TryGetValue(s.Name, out var built) || built.ContentHash != s.Definition.ContentHash)
                .Select(s => new SegmentTarget(s, Guid.CreateVersion7()))
                .ToList();
            if (targets.Count == 0) return;

            var started = clock.GetCurrentInstant();
            var mark = await HighWaterMarkAsync(cancellation);
            // Rows of a rebuild that never finished (the process stopped) belong to no one.
            foreach (var abandoned in catalog.Rebuilding.Values) DeleteGeneration(session, abandoned.Generation);
            session.Store(catalog with
            {
                Rebuilding = targets.ToDictionary(t => t.Segment.Name,
                    t => new SegmentRebuild(t.Generation, t.Segment.Definition.Version, t.Segment.Definition.ContentHash, started), StringComparer.Ordinal),
            });
            await session.SaveChangesAsync(cancellation);
            logger.LogInformation("Rebuilding segments {Segments} of workspace {Workspace} from events up to {Sequence}",
                string.Join(", ", targets.Select(t => t.Segment.Name)), workspace, mark);

            var result = await recompute.RunAsync(workspace, targets, mark, started, progress, cancellation);
            await SwapAsync(workspace, set, targets, result, mark, started, cancellation);
            await CatchUpAsync(workspace, mark, cancellation);
            await PlanReviewsAsync(workspace, result.Reviews, cancellation);
            logger.LogInformation("Rebuilt segments of workspace {Workspace}: {Sizes} ({Contacts} contacts, {Events} events)", workspace,
                string.Join(", ", result.Sizes.Select(s => $"{s.Key}={s.Value}")), result.Contacts, result.Events);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>One transaction: the new generations become current, the size history jumps to the new sizes, the old rows go.</summary>
    private async Task SwapAsync(string workspace, LiveSegmentSet set, IReadOnlyList<SegmentTarget> targets, RecomputeResult result, long mark,
        Instant started, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession(workspace);
        var catalog = await session.LoadAsync<SegmentCatalog>(SegmentCatalog.DocumentId, cancellation) ?? new SegmentCatalog();
        var current = new Dictionary<string, SegmentGeneration>(catalog.Current, StringComparer.Ordinal);
        var now = clock.GetCurrentInstant();
        foreach (var target in targets)
        {
            var name = target.Segment.Name;
            if (current.TryGetValue(name, out var replaced)) DeleteGeneration(session, replaced.Generation);
            current[name] = new SegmentGeneration(target.Generation, target.Segment.Definition.Version, target.Segment.Definition.ContentHash,
                set.ReferencedVersions[name], mark, started);
            var recorded = await SegmentMembers.RecordedSizeAsync(session, catalog.Lineage, name, cancellation);
            if (result.Sizes[name] != recorded) SegmentMembers.CountChange(session, catalog.Lineage, name, now, result.Sizes[name] - recorded);
        }
        var rebuilding = new Dictionary<string, SegmentRebuild>(catalog.Rebuilding, StringComparer.Ordinal);
        foreach (var target in targets) rebuilding.Remove(target.Segment.Name);
        session.Store(catalog with { Current = current, Rebuilding = rebuilding });
        await session.SaveChangesAsync(cancellation);
    }

    private void DeleteGeneration(IDocumentSession session, Guid generation) =>
        session.QueueSqlCommand($"delete from {store.Options.DatabaseSchemaName}.{SegmentTables.Members} where generation = ?", generation);

    /// <summary>Contacts whose events were stored after the mark: the live engine skipped the segments while they were stale.</summary>
    private async Task CatchUpAsync(string workspace, long mark, CancellationToken cancellation)
    {
        await using var query = store.QuerySession(workspace);
        var contacts = await query.AdvancedSql.QueryAsync<Guid>(
            $"select distinct stream_id from {store.Options.Events.DatabaseSchemaName}.mt_events where tenant_id = ? and seq_id > ? " +
            $"and stream_id in (select id from {store.Options.DatabaseSchemaName}.mt_doc_contactprofile where tenant_id = ?)",
            cancellation, workspace, mark - InFlightMargin, workspace);
        foreach (var chunk in contacts.Chunk(Batch))
        {
            await using var scope = services.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
            await using var session = store.LightweightSession(workspace);
            outbox.Enroll(session);
            foreach (var contactId in chunk)
                await outbox.PublishAsync(new ReviewSegments(contactId, null), new DeliveryOptions { TenantId = workspace });
            await session.SaveChangesAsync(cancellation);
        }
    }

    /// <summary>One durable review per contact at the earliest instant its answer can change by time alone, unless an
    /// earlier review is already planned (that one plans the next).</summary>
    private async Task PlanReviewsAsync(string workspace, IReadOnlyList<PlannedReview> reviews, CancellationToken cancellation)
    {
        foreach (var chunk in reviews.Chunk(Batch))
        {
            await using var scope = services.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
            await using var session = store.LightweightSession(workspace);
            outbox.Enroll(session);
            var planned = (await session.LoadManyAsync<SegmentReviewPlan>(cancellation, chunk.Select(r => r.ContactId)))
                .ToDictionary(p => p.Id, p => p.DueAt);
            var now = clock.GetCurrentInstant();
            foreach (var review in chunk)
            {
                if (planned.TryGetValue(review.ContactId, out var earlier) && earlier <= review.DueAt) continue;
                session.Store(new SegmentReviewPlan(review.ContactId, review.DueAt));
                var wait = review.DueAt - now;
                await outbox.ScheduleAsync(new ReviewSegments(review.ContactId, review.DueAt), wait > Duration.Zero ? wait.ToTimeSpan() : TimeSpan.Zero,
                    new DeliveryOptions { TenantId = workspace });
            }
            await session.SaveChangesAsync(cancellation);
        }
    }

    private async Task<long> HighWaterMarkAsync(CancellationToken cancellation)
    {
        await using var query = store.QuerySession();
        return (await query.AdvancedSql.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0)::bigint from {store.Options.Events.DatabaseSchemaName}.mt_events", cancellation)).Single();
    }

    /// <summary>Workspaces that have published rules (only they can have segments).</summary>
    private async Task<IReadOnlyList<string>> WorkspacesAsync(CancellationToken cancellation)
    {
        await using var query = store.QuerySession();
        return await query.AdvancedSql.QueryAsync<string>(
            $"select distinct tenant_id from {store.Options.DatabaseSchemaName}.mt_doc_liveruleset order by tenant_id", cancellation);
    }
}

public static class SegmentRebuildHandler
{
    /// <summary>A rebuild over millions of contacts takes longer than Wolverine's default handler timeout.</summary>
    public static void Configure(HandlerChain chain) => chain.ExecutionTimeoutInSeconds = 3600;

    public static Task Handle(RebuildStaleSegments command, SegmentRebuilds rebuilds, CancellationToken cancellation) =>
        rebuilds.RebuildStaleAsync(command.Workspace, cancellation);
}

/// <summary>Publishing a segment (a new one, or a new version of it or of a segment it refers to) makes its membership stale.</summary>
public static class SegmentPublicationHandler
{
    public static OutgoingMessages Handle(IEvent<RuleVersionPublished> e, IQuerySession session)
    {
        var outgoing = new OutgoingMessages();
        if (e.Data.Kind == "segment") outgoing.Add(new RebuildStaleSegments(session.TenantId));
        return outgoing;
    }
}

public static class SegmentRegistration
{
    public static IServiceCollection AddSegmentMemberships(this IServiceCollection services)
    {
        services.AddSingleton<SegmentMembership>();
        services.AddSingleton<SegmentRecompute>();
        services.AddSingleton<SegmentRebuilds>();
        services.AddSingleton<IRebuildableProjection>(provider => provider.GetRequiredService<SegmentRebuilds>());
        return services;
    }
}
