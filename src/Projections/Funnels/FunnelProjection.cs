using System.Collections.Concurrent;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Dsl.Compilation;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Npgsql;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>
/// Keeps every open generation of every published funnel current (async daemon). A tracked event whose name is a
/// step of a funnel, or a merge, makes the projection recompute that person's chains from all their events — so a late
/// event (event time before others already seen) lands where it belongs, and a merged contact's history counts for
/// the survivor.
/// </summary>
public sealed class FunnelProjection : IProjection
{
    public const string Name = "FunnelChains";

    private static readonly ConcurrentDictionary<Guid, CompiledFunnel?> Compiled = new();

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        foreach (var tenant in events.GroupBy(e => e.TenantId))
        {
            await ApplyAsync(operations.DocumentStore, tenant.Key, tenant.ToList(), cancellation);
        }
    }

    private static async Task ApplyAsync(IDocumentStore store, string tenant, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var touched = new HashSet<Guid>();
        var open = await OpenGenerationsAsync(store, tenant, cancellation);
        if (open.Count == 0) return;
        var steps = open.SelectMany(o => o.Funnel.Steps).ToList();
        var names = steps.Select(s => s.EventName).ToHashSet(StringComparer.Ordinal);

        foreach (var e in events)
        {
            switch (e.Data)
            {
                case ContactTracked t when names.Contains(t.Event):
                case PageViewed when names.Contains("page"):
                case ScreenViewed when names.Contains("screen"):
                    touched.Add(e.StreamId);
                    break;
                case ContactMerged m:
                    touched.Add(m.ContactId);
                    touched.Add(m.MergedContactId);
                    break;
            }
        }
        if (touched.Count == 0) return;

        var funnelStore = new FunnelStore(store.Options.Events.DatabaseSchemaName);
        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        var people = await funnelStore.PeopleOfAsync(connection, tenant, touched, cancellation);
        var streams = people.SelectMany(p => p.Streams).ToHashSet();

        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        // Lock first, then read: whoever writes a person last has read every event committed before it wrote.
        await FunnelStore.LockAsync(connection, transaction, tenant, streams, cancellation);
        var byStream = await funnelStore.EventsOfAsync(connection, tenant, streams, steps, cancellation);
        foreach (var (generation, building, funnel) in open)
        {
            var computed = people
                .Select(p => (p, FunnelMatching.Chains(funnel, p.Streams.SelectMany(s => byStream.GetValueOrDefault(s) ?? []).ToList())))
                .ToList();
            await funnelStore.ReplaceAsync(connection, transaction, generation.Id, computed, markDirty: building, skipDirty: false, cancellation);
        }
        await transaction.CommitAsync(cancellation);
    }

    /// <summary>The generations to keep current in a workspace, each with its compiled funnel.</summary>
    public static async Task<IReadOnlyList<(FunnelGeneration Generation, bool Building, CompiledFunnel Funnel)>> OpenGenerationsAsync(
        IDocumentStore store, string tenant, CancellationToken cancellation)
    {
        await using var session = store.QuerySession(tenant);
        var definitions = await session.Query<FunnelDefinition>().ToListAsync(cancellation);
        var open = new List<(FunnelGeneration, bool, CompiledFunnel)>();
        foreach (var definition in definitions)
        {
            foreach (var generation in definition.Open())
            {
                if (Compile(definition.Id, generation) is { } funnel) open.Add((generation, generation == definition.Building, funnel));
            }
        }
        return open;
    }

    public static CompiledFunnel? Compile(string name, FunnelGeneration generation) =>
        Compiled.GetOrAdd(generation.Id, _ => generation.Compile(name));
}
