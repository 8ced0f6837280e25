using System.Collections.Concurrent;
using System.Data;
using System.Diagnostics;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Logging;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>
/// Funnel reports from memory (ADR 0017): each node keeps, per workspace and funnel, the active generation's chains in
/// columns, and before every report reads the generation's version (<c>funnel_versions</c>, bumped by every live write
/// in the writer's transaction) in the same snapshot it answers from; changes since the version it holds are read from
/// <c>funnel_changes</c> and applied first. The answer is the one <see cref="FunnelReports.ComputeAsync"/> gives from
/// the tables; whenever the index cannot give it (not loaded yet, too far behind, a breakdown column still loading) the
/// report is computed by that SQL path instead, and the missing part loads in the background.
/// </summary>
public sealed class FunnelIndexes(ILogger<FunnelIndexes> logger) : IDisposable
{
    /// <summary>Changed contacts applied to an index in one report; more, and the index reloads instead.</summary>
    public const int MaxPatch = 100_000;

    private readonly ConcurrentDictionary<(string Tenant, string Funnel), Entry> entries = new();
    private readonly CancellationTokenSource stopping = new();

    /// <summary>The report, from memory when the index can answer, otherwise from the tables.</summary>
    public async Task<FunnelReport> ComputeAsync(IDocumentStore store, string tenant, FunnelDefinition definition,
        Instant? from, Instant? to, FunnelBreakdown? breakdown, CancellationToken cancellation) =>
        await TryComputeAsync(store, tenant, definition, from, to, breakdown, wait: false, cancellation)
        ?? await FunnelReports.ComputeAsync(store, tenant, definition, from, to, breakdown, cancellation);

    /// <summary>The report from memory only, waiting for whatever has to load first (tests and benchmarks).</summary>
    public async Task<FunnelReport> ComputeFromMemoryAsync(IDocumentStore store, string tenant, FunnelDefinition definition,
        Instant? from, Instant? to, FunnelBreakdown? breakdown, CancellationToken cancellation) =>
        await TryComputeAsync(store, tenant, definition, from, to, breakdown, wait: true, cancellation)
        ?? throw new InvalidOperationException($"Funnel '{definition.Id}' could not be answered from memory.");

    /// <summary>Loads the index of the funnel's active generation unless it is held or loading, so that its first report
    /// is answered from memory too (at start, for every published funnel); completes when the load has.</summary>
    public Task WarmAsync(IDocumentStore store, string tenant, FunnelDefinition definition)
    {
        if (definition.Active is not { } active || FunnelProjection.Compile(definition.Id, active) is not { } funnel) return Task.CompletedTask;
        var entry = entries.GetOrAdd((tenant, definition.Id), _ => new Entry());
        return entry.StartLoad(() => LoadAsync(store, tenant, definition.Id, active.Id, funnel.Steps.Count, stopping.Token), active.Id, logger);
    }

    /// <summary>What the indexes hold, for the benchmark.</summary>
    public IReadOnlyList<(string Tenant, string Funnel, long Version, int Chains, int Overlay, int Contacts, long Bytes)> Describe() =>
        entries.Where(e => e.Value.State is not null).Select(e =>
        {
            var state = e.Value.State!;
            var bytes = state.Bytes + e.Value.Properties.Values.Sum(p => p.Bytes) + e.Value.Persons.Values.Sum(p => p.Bytes);
            return (e.Key.Tenant, e.Key.Funnel, state.Version, state.Base.Count, state.Overlay.Count, state.ContactCount, bytes);
        }).ToList();

    public void Dispose()
    {
        stopping.Cancel();
        stopping.Dispose();
    }

    private async Task<FunnelReport?> TryComputeAsync(IDocumentStore store, string tenant, FunnelDefinition definition,
        Instant? from, Instant? to, FunnelBreakdown? breakdown, bool wait, CancellationToken cancellation)
    {
        if (definition.Active is not { } active || FunnelProjection.Compile(definition.Id, active) is not { } funnel) return null;
        var tables = new FunnelStore(store.Options.Events.DatabaseSchemaName);
        var entry = entries.GetOrAdd((tenant, definition.Id), _ => new Entry());

        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var state = entry.State;
            if (state?.Generation != active.Id)
            {
                var loading = entry.StartLoad(() => LoadAsync(store, tenant, definition.Id, active.Id, funnel.Steps.Count, stopping.Token), active.Id, logger);
                if (!wait) return null;
                await loading.WaitAsync(cancellation);
                continue;
            }

            // One snapshot for the version, the changes applied to reach it, and the lookups of breakdowns.
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellation);
            var version = await VersionAsync(connection, transaction, tables, active.Id, cancellation);
            if (state.Version < version)
            {
                state = await CatchUpAsync(entry, connection, transaction, tables, store, tenant, definition.Id, active.Id, funnel.Steps.Count,
                    version, cancellation);
                if (state is null)
                {
                    var loading = entry.StartLoad(() => LoadAsync(store, tenant, definition.Id, active.Id, funnel.Steps.Count, stopping.Token), active.Id,
                        logger, replace: true);
                    if (!wait) return null;
                    await loading.WaitAsync(cancellation);
                    continue;
                }
            }
            // A newer state than this snapshot (another report caught up meanwhile): answer from a newer snapshot.
            if (state.Version != version) continue;

            var report = await ReportAsync(entry, state, connection, transaction, store, tables, tenant, definition, active, funnel, from, to, breakdown,
                wait, cancellation);
            await transaction.CommitAsync(cancellation);
            if (state.Overlay.Count > Math.Max(50_000, state.Base.Count / 8))
                _ = entry.StartLoad(() => LoadAsync(store, tenant, definition.Id, active.Id, funnel.Steps.Count, stopping.Token), active.Id, logger,
                    replace: true);
            return report;
        }
        return null;
    }

    private async Task<FunnelReport?> ReportAsync(Entry entry, FunnelIndexState state, NpgsqlConnection connection, NpgsqlTransaction transaction,
        IDocumentStore store, FunnelStore tables, string tenant, FunnelDefinition definition, FunnelGeneration active, CompiledFunnel funnel,
        Instant? from, Instant? to, FunnelBreakdown? breakdown, bool wait, CancellationToken cancellation)
    {
        // The range as FunnelPeriods.Cover clamps it, in microseconds as Npgsql sends the SQL path's bounds.
        var low = from is { } f && f > FunnelPeriods.Beginning ? f : FunnelPeriods.Beginning;
        var high = to is { } t && t < FunnelPeriods.End ? t : FunnelPeriods.End;
        var events = funnel.Steps.Select(s => s.EventName).ToArray();
        PropertyColumn? column = null;
        if (breakdown?.Kind == FunnelBreakdownKind.Property)
        {
            column = entry.Properties.GetValueOrDefault(breakdown.ToString());
            if (column?.Base != state.Base)
            {
                var chains = state.Base;
                var loading = entry.StartColumnLoad(breakdown.ToString(), c => c.Base == chains,
                    () => PropertyColumn.LoadAsync(store, chains, breakdown.Name, stopping.Token), entry.Properties, logger);
                if (!wait) return null;
                column = await loading.WaitAsync(cancellation);
            }
        }
        var choice = low < high ? state.Choose(Micros(low.ToDateTimeUtc()), Micros(high.ToDateTimeUtc()), column?.Codes) : new Choice(0, state.Base.Stride);
        var overall = StepAggregate.Steps(choice, events, null, 1)[0];
        if (breakdown is null) return FunnelReports.Assemble(definition, active, funnel, from, to, null, overall, []);

        (int[] Codes, string?[] Values)? coded;
        if (column is not null) coded = await column.CodesAsync(connection, transaction, choice, state, cancellation);
        else
        {
            var persons = entry.Persons.GetValueOrDefault(breakdown.ToString());
            if (persons?.Lineage != state.Lineage)
            {
                var lineage = state.Lineage;
                var loading = entry.StartColumnLoad(breakdown.ToString(), c => c.Lineage == lineage,
                    () => PersonColumn.LoadAsync(store, tenant, active.Id, lineage, entry.Gate, breakdown, stopping.Token), entry.Persons, logger);
                if (!wait) return null;
                persons = await loading.WaitAsync(cancellation);
            }
            // Too much changed since the column was read: this report looks the values up in the tables.
            coded = await persons.CodesAsync(connection, transaction, choice, state, entry.Gate, cancellation)
                ?? await LookUpAsync(connection, transaction, tables, tenant, active.Id, breakdown, state, choice, cancellation);
        }
        var (codes, values) = coded.Value;
        var groups = StepAggregate.Steps(choice, events, codes, values.Length);
        var list = Enumerable.Range(0, values.Length).Where(g => groups[g][0].Contacts > 0)
            .Select(g => new FunnelBreakdownGroup(values[g], groups[g])).ToList();
        return FunnelReports.Assemble(definition, active, funnel, from, to, breakdown, overall, list);
    }

    /// <summary>A trait or campaign exposure of each chosen chain's contact, with the SQL path's own expressions, read in
    /// the report's snapshot (profiles and messages change without the funnel changing).</summary>
    private static async Task<(int[] Codes, string?[] Values)> LookUpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        FunnelStore tables, string tenant, Guid generation, FunnelBreakdown breakdown, FunnelIndexState state, Choice choice,
        CancellationToken cancellation)
    {
        var codes = new int[choice.Count];
        var values = new List<string?> { null };
        var encoded = new Dictionary<string, int>(StringComparer.Ordinal);
        if (choice.Count == 0) return (codes, values.ToArray());
        await using var command = new NpgsqlCommand(
            $"select c.i, {FunnelReports.GroupExpression(tables, breakdown.Kind)} " +
            "from unnest(@contacts, @at) with ordinality as c(contact_id, step1_at, i)", connection, transaction);
        command.Parameters.AddWithValue("contacts", choice.Contact.Select(c => state.Contacts[c]).ToArray());
        command.Parameters.AddWithValue("at", choice.At.Select(FromMicros).ToArray());
        command.Parameters.AddWithValue("g", generation);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("name", breakdown.Name);
        command.Parameters.AddWithValue("sent", typeof(MessageSent).GetEventTypeName());
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            if (reader.IsDBNull(1)) continue;
            var value = reader.GetString(1);
            if (!encoded.TryGetValue(value, out var code))
            {
                values.Add(value);
                encoded[value] = code = values.Count - 1;
            }
            codes[reader.GetInt64(0) - 1] = code;
        }
        return (codes, values.ToArray());
    }

    private static async Task<long> VersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, FunnelStore tables, Guid generation,
        CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand($"select version from {tables.Versions} where generation = @g", connection, transaction);
        command.Parameters.AddWithValue("g", generation);
        return await command.ExecuteScalarAsync(cancellation) is long version ? version : 0;
    }

    /// <summary>Applies the changes up to <paramref name="version"/> (read in the caller's snapshot); null when the index
    /// is too far behind and has to reload.</summary>
    private static async Task<FunnelIndexState?> CatchUpAsync(Entry entry, NpgsqlConnection connection, NpgsqlTransaction transaction,
        FunnelStore tables, IDocumentStore store, string tenant, string funnel, Guid generation, int steps, long version, CancellationToken cancellation)
    {
        await entry.Gate.WaitAsync(cancellation);
        try
        {
            var state = entry.State;
            if (state is null || state.Generation != generation) return null;
            if (state.Version >= version) return state;

            var changed = new HashSet<Guid>();
            long versions = 0;
            await using (var command = new NpgsqlCommand(
                $"select contacts from {tables.Changes} where generation = @g and version > @from and version <= @to", connection, transaction))
            {
                command.Parameters.AddWithValue("g", generation);
                command.Parameters.AddWithValue("from", state.Version);
                command.Parameters.AddWithValue("to", version);
                await using var reader = await command.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    versions++;
                    foreach (var contact in reader.GetFieldValue<Guid[]>(0)) changed.Add(contact);
                    if (changed.Count > MaxPatch) return null;
                }
            }
            // A gap: changes older than the ones kept (FunnelStore.ChangesKept).
            if (versions != version - state.Version) return null;

            var lineage = state.Lineage;
            var fresh = new ChainBuilder(steps - 1);
            await using (var command = new NpgsqlCommand(
                $"select contact_id, step1_at, step1_seq, depth, times from {tables.Chains} where generation = @g and contact_id = any(@contacts)",
                connection, transaction))
            {
                command.Parameters.AddWithValue("g", generation);
                command.Parameters.AddWithValue("contacts", changed.ToArray());
                await using var reader = await command.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation)) fresh.Add(reader, lineage);
            }

            var changedOrdinals = changed.Select(lineage.Ordinal).ToHashSet();
            var replaced = new ulong[(lineage.Count + 63) / 64 + 1];
            Array.Copy(state.Replaced, replaced, Math.Min(state.Replaced.Length, replaced.Length));
            foreach (var ordinal in changedOrdinals) replaced[ordinal >> 6] |= 1UL << ordinal;
            // The overlay keeps the chains of earlier changes to other contacts, and takes these contacts' new chains.
            var kept = Enumerable.Range(0, state.Overlay.Count).Where(i => !changedOrdinals.Contains(state.Overlay.Contact[i])).ToList();
            var overlay = fresh.Append(state.Overlay, kept).Sorted();
            var next = new FunnelIndexState(generation, version, steps, state.Base, overlay, replaced, lineage);
            entry.State = next;
            return next;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Loads a generation's chains and their version in one snapshot.</summary>
    private async Task<FunnelIndexState> LoadAsync(IDocumentStore store, string tenant, string funnel, Guid generation, int steps,
        CancellationToken cancellation)
    {
        var watch = Stopwatch.StartNew();
        var tables = new FunnelStore(store.Options.Events.DatabaseSchemaName);
        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellation);
        var version = await VersionAsync(connection, transaction, tables, generation, cancellation);
        var lineage = new Lineage();
        var builder = new ChainBuilder(steps - 1);
        await using (var command = new NpgsqlCommand(
            $"select contact_id, step1_at, step1_seq, depth, times from {tables.Chains} where generation = @g order by step1_at, step1_seq",
            connection, transaction))
        {
            command.CommandTimeout = 0;
            command.Parameters.AddWithValue("g", generation);
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation)) builder.Add(reader, lineage);
        }
        await transaction.CommitAsync(cancellation);
        var chains = builder.Append(ChainColumns.Empty, []);
        if (!chains.IsSorted()) chains = chains.Sorted();
        var state = new FunnelIndexState(generation, version, steps, chains, ChainColumns.Empty, new ulong[(lineage.Count + 63) / 64 + 1],
            lineage);
        logger.LogInformation("Funnel {Funnel} of {Workspace} loaded into memory: {Chains} chains of {Contacts} contacts at version {Version}, " +
                              "{Megabytes:N0} MB, in {Seconds:N1} s", funnel, tenant, chains.Count, lineage.Count, version, state.Bytes / 1e6,
            watch.Elapsed.TotalSeconds);
        return state;
    }

    /// <summary>Microseconds since the Unix epoch of a UTC time, truncated as Npgsql truncates it for PostgreSQL.</summary>
    internal static long Micros(DateTime utc) => (utc.Ticks - PostgresEpochTicks) / 10 + PostgresEpochMicros;

    internal static DateTime FromMicros(long micros) => new((micros - PostgresEpochMicros) * 10 + PostgresEpochTicks, DateTimeKind.Utc);

    private const long PostgresEpochTicks = 630_822_816_000_000_000L;
    private const long PostgresEpochMicros = 946_684_800_000_000L;

    /// <summary>Contact ordinals of one loaded base and the states patched from it (mutated under the entry's gate).</summary>
    internal sealed class Lineage
    {
        private readonly Dictionary<Guid, int> ordinals = new();

        public Guid[] Contacts { get; private set; } = new Guid[1024];
        public int Count { get; private set; }

        public int Ordinal(Guid contact)
        {
            if (ordinals.TryGetValue(contact, out var ordinal)) return ordinal;
            if (Count == Contacts.Length)
            {
                // Earlier states keep the array they were made with; a larger one serves the states from now on.
                var larger = new Guid[Contacts.Length * 2];
                Array.Copy(Contacts, larger, Count);
                Contacts = larger;
            }
            Contacts[Count] = contact;
            ordinals[contact] = Count;
            return Count++;
        }
    }

    /// <summary>Rows of <c>funnel_chains</c> gathered into columns.</summary>
    private sealed class ChainBuilder(int stride)
    {
        private readonly List<long> at = [];
        private readonly List<long> sequence = [];
        private readonly List<int> contact = [];
        private readonly List<byte> depth = [];
        private readonly List<long> deltas = [];

        public void Add(NpgsqlDataReader reader, Lineage lineage)
        {
            contact.Add(lineage.Ordinal(reader.GetGuid(0)));
            at.Add(Micros(reader.GetFieldValue<DateTime>(1)));
            sequence.Add(reader.GetInt64(2));
            var d = reader.GetInt16(3);
            depth.Add((byte)d);
            var times = reader.GetFieldValue<long[]>(4);
            for (var k = 1; k <= stride; k++) deltas.Add(k < d ? times[k] - times[k - 1] : 0);
        }

        /// <summary>These rows followed by <paramref name="rows"/> of <paramref name="other"/>.</summary>
        public ChainColumns Append(ChainColumns other, IReadOnlyList<int> rows)
        {
            var result = new ChainColumns(at.Count + rows.Count, stride);
            for (var i = 0; i < at.Count; i++)
            {
                result.At[i] = at[i];
                result.Sequence[i] = sequence[i];
                result.Contact[i] = contact[i];
                result.Depth[i] = depth[i];
            }
            deltas.CopyTo(result.Deltas);
            for (var i = 0; i < rows.Count; i++) result.CopyFrom(at.Count + i, other, rows[i]);
            return result;
        }
    }

    private sealed class Entry
    {
        private readonly object sync = new();
        private Task<FunnelIndexState?>? loading;
        private Guid loadingGeneration;
        private readonly Dictionary<string, Task> columnLoads = new(StringComparer.Ordinal);

        public SemaphoreSlim Gate { get; } = new(1, 1);
        public volatile FunnelIndexState? State;
        public ConcurrentDictionary<string, PropertyColumn> Properties { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, PersonColumn> Persons { get; } = new(StringComparer.Ordinal);

        /// <summary>Starts loading <paramref name="generation"/> unless that is under way; with <paramref name="replace"/>,
        /// also when it is the one held (to compact the changes applied, or after falling too far behind).</summary>
        public Task StartLoad(Func<Task<FunnelIndexState>> load, Guid generation, ILogger logger, bool replace = false)
        {
            lock (sync)
            {
                if (loading is { IsCompleted: false } && loadingGeneration == generation) return loading;
                if (!replace && State?.Generation == generation) return Task.CompletedTask;
                loadingGeneration = generation;
                return loading = Task.Run(async () =>
                {
                    try
                    {
                        var state = await load();
                        await Gate.WaitAsync();
                        try
                        {
                            // A state newer than the load may be held: it is still replaced, and catches up at the next report.
                            State = state;
                            foreach (var stale in Properties.Where(p => p.Value.Base != state.Base).Select(p => p.Key).ToList())
                                Properties.TryRemove(stale, out _);
                            foreach (var stale in Persons.Where(p => p.Value.Lineage != state.Lineage).Select(p => p.Key).ToList())
                                Persons.TryRemove(stale, out _);
                        }
                        finally
                        {
                            Gate.Release();
                        }
                        return (FunnelIndexState?)state;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        logger.LogError(e, "Loading a funnel into memory failed; its reports are computed from the tables");
                        return null;
                    }
                });
            }
        }

        /// <summary>Starts loading a breakdown column unless one for the current state is loaded or loading.</summary>
        public Task<T> StartColumnLoad<T>(string key, Func<T, bool> current, Func<Task<T>> load, ConcurrentDictionary<string, T> into,
            ILogger logger) where T : class
        {
            lock (sync)
            {
                if (columnLoads.TryGetValue(key, out var running) && running is Task<T> typed &&
                    (!typed.IsCompleted || (typed.IsCompletedSuccessfully && current(typed.Result)))) return typed;
                var task = Task.Run(async () =>
                {
                    try
                    {
                        var column = await load();
                        into[key] = column;
                        return column;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        logger.LogError(e, "Loading the funnel breakdown {Breakdown} into memory failed", key);
                        throw;
                    }
                });
                columnLoads[key] = task;
                return task;
            }
        }
    }
}
