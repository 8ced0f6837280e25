using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.Extensions.Logging;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>
/// Fills a new generation of a funnel from the whole history, while reports keep reading the active one, then makes it
/// the active one (blue/green). Runs when a funnel version is published, and for <c>POST /admin/projections/funnels/rebuild</c>.
/// One ordered scan of the workspace's step events; persons are written in chunks with binary COPY.
/// </summary>
public sealed class FunnelRebuilder(IDocumentStore store, IClock clock, ILogger<FunnelRebuilder> logger) : IRebuildableProjection
{
    private const int ChunkPersons = 1000;

    /// <summary>How many ranges of streams are scanned and written at once (each uses two connections).</summary>
    public int Parallelism { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 4);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    public string Name => "funnels";

    private FunnelStore Tables => new(store.Options.Events.DatabaseSchemaName);

    public async Task RebuildAsync(IProgress<RebuildProgress> progress, CancellationToken cancellation)
    {
        var work = new List<(string Tenant, string Funnel)>();
        await using (var connection = await OpenAsync(cancellation))
        await using (var command = new NpgsqlCommand(
            $"select tenant_id, id from {store.Options.DatabaseSchemaName}.mt_doc_funneldefinition order by tenant_id, id", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation)) work.Add((reader.GetString(0), reader.GetString(1)));
        }

        var totals = new List<long>();
        foreach (var (tenant, funnel) in work) totals.Add(await CountAsync(tenant, await LiveFunnelAsync(tenant, funnel, cancellation), cancellation));
        var total = totals.Sum();
        long before = 0;
        for (var i = 0; i < work.Count; i++)
        {
            var offset = before;
            await RebuildFunnelAsync(work[i].Tenant, work[i].Funnel,
                new Progress<RebuildProgress>(p => progress.Report(new RebuildProgress(offset + p.Done, Math.Max(total, offset + p.Total)))),
                cancellation);
            before += totals[i];
        }
        progress.Report(new RebuildProgress(total, total));
    }

    /// <summary>Rebuilds one funnel of one workspace with its live definition; a funnel no longer published loses its data.</summary>
    public async Task RebuildFunnelAsync(string tenant, string name, IProgress<RebuildProgress>? progress, CancellationToken cancellation)
    {
        var live = await LiveFunnelAsync(tenant, name, cancellation);
        if (live is null)
        {
            await ForgetAsync(tenant, name, cancellation);
            return;
        }
        var (rule, text, funnel) = live.Value;

        var generation = new FunnelGeneration(Guid.NewGuid(), rule.Version, rule.ContentHash, text, clock.GetCurrentInstant());
        var abandoned = await UpdateAsync(tenant, name, d => d with { Building = generation }, cancellation);
        await using var connection = await OpenAsync(cancellation);
        if (abandoned?.Building is { } older) await Tables.DropAsync(connection, older.Id, cancellation);

        var total = await CountAsync(tenant, live, cancellation);
        generation = generation with { Total = total };
        var done = await FillAsync(connection, tenant, generation, funnel, total, progress, cancellation);
        if (done is null)
        {
            await Tables.DropAsync(connection, generation.Id, cancellation);
            return;
        }

        var completed = generation with { Done = done.Value, Total = Math.Max(total, done.Value), CompletedAt = clock.GetCurrentInstant() };
        FunnelGeneration? replaced = null;
        var superseded = false;
        await UpdateAsync(tenant, name, d =>
        {
            if (d.Building?.Id != generation.Id)
            {
                superseded = true;
                return d;
            }
            replaced = d.Active;
            return d with { Active = completed, Building = null };
        }, cancellation);
        if (superseded)
        {
            await Tables.DropAsync(connection, generation.Id, cancellation);
            return;
        }
        if (replaced is not null) await Tables.DropAsync(connection, replaced.Id, cancellation);
        await ClearDirtyAsync(connection, generation.Id, cancellation);
        progress?.Report(new RebuildProgress(done.Value, Math.Max(total, done.Value)));
        logger.LogInformation("Funnel {Funnel} v{Version} of {Workspace} rebuilt from {Events} events", name, rule.Version, tenant, done);
    }

    /// <summary>Scans the workspace's step events in stream order and writes every person's chains into the generation:
    /// the streams are split into <see cref="Parallelism"/> contiguous ranges, each scanned and written by its own pair
    /// of connections. Returns the number of events read, or null when a newer definition took over meanwhile.</summary>
    private async Task<long?> FillAsync(NpgsqlConnection connection, string tenant, FunnelGeneration generation, CompiledFunnel funnel, long total,
        IProgress<RebuildProgress>? progress, CancellationToken cancellation)
    {
        var merged = await MergedPeopleAsync(connection, tenant, cancellation);
        var bounds = await StreamBoundsAsync(connection, tenant, Parallelism, cancellation);
        var buffered = new ConcurrentDictionary<Guid, List<FunnelEvent>>();
        var sinceProgress = Stopwatch.StartNew();
        var superseded = false;
        long done = 0;

        async Task<bool> FlushAsync(NpgsqlConnection writer, List<(FunnelPerson, IReadOnlyList<FunnelChain>)> pending)
        {
            if (pending.Count == 0) return true;
            await using (var transaction = await writer.BeginTransactionAsync(cancellation))
            {
                await FunnelStore.LockAsync(writer, transaction, tenant, pending.SelectMany(p => p.Item1.Streams), cancellation);
                await Tables.ReplaceAsync(writer, transaction, generation.Id, pending, markDirty: false, skipDirty: true, cancellation);
                await transaction.CommitAsync(cancellation);
            }
            pending.Clear();
            lock (sinceProgress)
            {
                if (sinceProgress.Elapsed < ProgressEvery) return !superseded;
                sinceProgress.Restart();
            }
            var now = Interlocked.Read(ref done);
            progress?.Report(new RebuildProgress(now, Math.Max(total, now)));
            if (!await ReportAsync(tenant, funnel.Name, generation with { Done = now, Total = Math.Max(total, now) }, cancellation)) superseded = true;
            return !superseded;
        }

        async Task<bool> ScanAsync(Guid? low, Guid? high)
        {
            await using var writer = await OpenAsync(cancellation);
            var pending = new List<(FunnelPerson, IReadOnlyList<FunnelChain>)>(ChunkPersons);
            await using var reading = await OpenAsync(cancellation);
            await using var command = Tables.StepEventsCommand(reading, tenant, funnel.Steps,
                (low is null ? "" : "and stream_id >= @low ") + (high is null ? "" : "and stream_id < @high"), "order by stream_id");
            if (low is { } l) command.Parameters.AddWithValue("low", l);
            if (high is { } h) command.Parameters.AddWithValue("high", h);
            command.CommandTimeout = 0;
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            Guid? current = null;
            var events = new List<FunnelEvent>();
            while (await reader.ReadAsync(cancellation))
            {
                var stream = reader.GetGuid(1);
                if (current != stream)
                {
                    if (current is { } finished && !await CompleteAsync(finished, events)) return false;
                    current = stream;
                    events = [];
                }
                events.Add(FunnelStore.ReadStepEvent(reader));
                Interlocked.Increment(ref done);
            }
            if (current is { } last && !await CompleteAsync(last, events)) return false;
            return await FlushAsync(writer, pending);

            async Task<bool> CompleteAsync(Guid stream, List<FunnelEvent> streamEvents)
            {
                if (merged.ContainsKey(stream))
                {
                    buffered[stream] = streamEvents;
                    return true;
                }
                pending.Add((new FunnelPerson(stream, [stream]), FunnelMatching.Chains(funnel, streamEvents)));
                return pending.Count < ChunkPersons || await FlushAsync(writer, pending);
            }
        }

        var scans = bounds.Zip(bounds.Skip(1)).Select(b => Task.Run(() => ScanAsync(b.First, b.Second), cancellation)).ToArray();
        if (!(await Task.WhenAll(scans)).All(ok => ok)) return null;

        // People with several streams (merges) are complete only once every stream was read.
        var people = new List<(FunnelPerson, IReadOnlyList<FunnelChain>)>(ChunkPersons);
        foreach (var person in merged.Values.Distinct())
        {
            var events = person.Streams.SelectMany(s => buffered.GetValueOrDefault(s) ?? []).ToList();
            if (events.Count == 0) continue;
            people.Add((person, FunnelMatching.Chains(funnel, events)));
            if (people.Count >= ChunkPersons && !await FlushAsync(connection, people)) return null;
        }
        return await FlushAsync(connection, people) ? Interlocked.Read(ref done) : null;
    }

    /// <summary>Splits the workspace's streams into <paramref name="parts"/> contiguous ranges of about equal size:
    /// the bounds in stream id order, null for an open end.</summary>
    private async Task<IReadOnlyList<Guid?>> StreamBoundsAsync(NpgsqlConnection connection, string tenant, int parts, CancellationToken cancellation)
    {
        var bounds = new List<Guid?> { null };
        if (parts > 1)
        {
            var streams = $"{store.Options.Events.DatabaseSchemaName}.mt_streams";
            await using var count = new NpgsqlCommand($"select count(*) from {streams} where tenant_id = @tenant", connection);
            count.Parameters.AddWithValue("tenant", tenant);
            var total = (long)(await count.ExecuteScalarAsync(cancellation))!;
            for (var part = 1; part < parts && total >= parts; part++)
            {
                await using var command = new NpgsqlCommand(
                    $"select id from {streams} where tenant_id = @tenant order by id offset @skip limit 1", connection);
                command.Parameters.AddWithValue("tenant", tenant);
                command.Parameters.AddWithValue("skip", total * part / parts);
                command.CommandTimeout = 0;
                if (await command.ExecuteScalarAsync(cancellation) is Guid bound && bound != bounds[^1]) bounds.Add(bound);
            }
        }
        bounds.Add(null);
        return bounds;
    }

    /// <summary>Every stream that belongs to a person of several streams (merges), with that person.</summary>
    private async Task<Dictionary<Guid, FunnelPerson>> MergedPeopleAsync(NpgsqlConnection connection, string tenant, CancellationToken cancellation)
    {
        var streams = new List<Guid>();
        await using (var command = new NpgsqlCommand(
            $"select id from {Tables.Profiles} where tenant_id = @tenant and (data ->> 'MergedInto' is not null " +
            "or jsonb_array_length(coalesce(data -> 'MergedContactIds', '[]'::jsonb)) > 0)", connection))
        {
            command.Parameters.AddWithValue("tenant", tenant);
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation)) streams.Add(reader.GetGuid(0));
        }
        var result = new Dictionary<Guid, FunnelPerson>();
        foreach (var person in await Tables.PeopleOfAsync(connection, tenant, streams, cancellation))
        {
            foreach (var stream in person.Streams) result[stream] = person;
        }
        return result;
    }

    private async Task<long> CountAsync(string tenant, (LiveRule Rule, string Text, CompiledFunnel Funnel)? live, CancellationToken cancellation)
    {
        if (live is null) return 0;
        await using var connection = await OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"select count(*) from {Tables.Events} where tenant_id = @tenant and type = any(@types) " +
            "and (type <> @tracked or data ->> 'Event' = any(@names))", connection);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("types", FunnelStore.TrackingEventTypes.ToArray());
        command.Parameters.AddWithValue("tracked", FunnelStore.TrackingEventTypes[0]);
        command.Parameters.AddWithValue("names", live.Value.Funnel.Steps.Select(s => s.EventName).Distinct().ToArray());
        command.CommandTimeout = 0;
        return (long)(await command.ExecuteScalarAsync(cancellation))!;
    }

    /// <summary>The published version of a funnel with the text it compiles from (alone, or with the live rules it
    /// refers to), or null when the workspace has no such live funnel.</summary>
    private async Task<(LiveRule Rule, string Text, CompiledFunnel Funnel)?> LiveFunnelAsync(string tenant, string name, CancellationToken cancellation)
    {
        await using var session = store.QuerySession(tenant);
        var set = await session.LoadAsync<LiveRuleSet>(LiveRuleSet.DocumentId, cancellation);
        if (set?.Rules.GetValueOrDefault(name) is not { Kind: "funnel" } rule) return null;
        foreach (var text in new[] { rule.Text, set.ActiveText() + "\n\n" + (rule.Paused ? rule.Text : "") })
        {
            if (RuleCompiler.Compile(text).Document?.Funnels.FirstOrDefault(f => f.Name == name) is { } funnel) return (rule, text, funnel);
        }
        return null;
    }

    private async Task<bool> ReportAsync(string tenant, string name, FunnelGeneration generation, CancellationToken cancellation)
    {
        var current = true;
        await UpdateAsync(tenant, name, d =>
        {
            if (d.Building?.Id != generation.Id)
            {
                current = false;
                return d;
            }
            return d with { Building = generation };
        }, cancellation);
        return current;
    }

    /// <summary>Changes the funnel's document; returns it as it was.</summary>
    private async Task<FunnelDefinition?> UpdateAsync(string tenant, string name, Func<FunnelDefinition, FunnelDefinition> change,
        CancellationToken cancellation)
    {
        await using var session = store.LightweightSession(tenant);
        var before = await session.LoadAsync<FunnelDefinition>(name, cancellation);
        var after = change(before ?? new FunnelDefinition { Id = name });
        if (!ReferenceEquals(after, before)) session.Store(after);
        await session.SaveChangesAsync(cancellation);
        return before;
    }

    private async Task ForgetAsync(string tenant, string name, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession(tenant);
        var definition = await session.LoadAsync<FunnelDefinition>(name, cancellation);
        if (definition is null) return;
        session.Delete(definition);
        await session.SaveChangesAsync(cancellation);
        await using var connection = await OpenAsync(cancellation);
        foreach (var generation in definition.Open()) await Tables.DropAsync(connection, generation.Id, cancellation);
    }

    private async Task ClearDirtyAsync(NpgsqlConnection connection, Guid generation, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand($"delete from {Tables.Dirty} where generation = @g", connection);
        command.Parameters.AddWithValue("g", generation);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellation)
    {
        var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        return connection;
    }

    internal static string Describe(JsonElement element) => element.ToString();
}
