using System.Data;
using EventSourcedJourneys.Domain.Messages;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>
/// A person's breakdown value that changes without the funnel changing (ADR 0017): a trait (the profiles are updated
/// with the events that change them) or the first time a campaign's message was sent to the person (campaign exposure
/// of a chain is that time being before its step-1 event). Each value is read with the SQL path's own expressions and
/// kept per person ordinal of a <see cref="FunnelIndexes.Lineage"/>. Before a report uses the column it re-reads the
/// persons whose streams received events since the event store's high-water mark it last saw (every event at or
/// below the mark is committed), and the persons the funnel's own changes touched.
/// </summary>
internal sealed class PersonColumn
{
    private const long NotSent = long.MaxValue;

    private readonly object sync = new();
    private readonly FunnelBreakdown breakdown;
    private readonly Guid generation;
    private readonly string tenant;
    private readonly FunnelStore tables;
    private readonly List<string?> values = [null];
    private readonly Dictionary<string, int> encoded = new(StringComparer.Ordinal);
    private int[] codes = [];
    private long[] sent = [];
    private long mark;
    private long funnelVersion;

    private PersonColumn(FunnelBreakdown breakdown, Guid generation, string tenant, FunnelStore tables, FunnelIndexes.Lineage lineage)
    {
        this.breakdown = breakdown;
        this.generation = generation;
        this.tenant = tenant;
        this.tables = tables;
        Lineage = lineage;
    }

    public FunnelIndexes.Lineage Lineage { get; }

    public long Bytes => codes.Length * 4L + sent.Length * 8L + values.Sum(v => 32L + 2L * (v?.Length ?? 0));

    /// <summary>Reads every person's value, the high-water mark and the funnel's version in one snapshot; ordinals are
    /// given under <paramref name="gate"/> (the lineage is only changed under it).</summary>
    public static async Task<PersonColumn> LoadAsync(IDocumentStore store, string tenant, Guid generation, FunnelIndexes.Lineage lineage,
        SemaphoreSlim gate, FunnelBreakdown breakdown, CancellationToken cancellation)
    {
        var column = new PersonColumn(breakdown, generation, tenant, new FunnelStore(store.Options.Events.DatabaseSchemaName), lineage);
        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellation);
        var mark = await column.MarkAsync(connection, transaction, cancellation);
        var version = await column.VersionAsync(connection, transaction, cancellation);
        var read = await column.ReadAsync(connection, transaction, null, cancellation);
        await transaction.CommitAsync(cancellation);
        await gate.WaitAsync(cancellation);
        try
        {
            lock (column.sync)
            {
                column.Store(read);
                column.mark = mark;
                column.funnelVersion = version;
            }
        }
        finally
        {
            gate.Release();
        }
        return column;
    }

    /// <summary>The value code of each chosen chain (0: not set) and the values by code, current in the caller's
    /// snapshot; null when too much changed to catch up here.</summary>
    public async Task<(int[] Codes, string?[] Values)?> CodesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Choice choice,
        FunnelIndexState state, SemaphoreSlim gate, CancellationToken cancellation)
    {
        // The gate keeps the lineage still while new persons get ordinals, and serializes catching up.
        await gate.WaitAsync(cancellation);
        try
        {
            var now = await MarkAsync(connection, transaction, cancellation);
            var changed = new HashSet<Guid>();
            await using (var command = new NpgsqlCommand(
                $"select distinct m.contact_id from {tables.People} m where m.generation = @g and m.stream_id in " +
                $"(select e.stream_id from {tables.Events} e where e.seq_id > @mark and e.tenant_id = @tenant)", connection, transaction))
            {
                command.Parameters.AddWithValue("g", generation);
                command.Parameters.AddWithValue("mark", mark);
                command.Parameters.AddWithValue("tenant", tenant);
                await using var reader = await command.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation)) changed.Add(reader.GetGuid(0));
            }
            if (state.Version > funnelVersion)
            {
                await using var command = new NpgsqlCommand(
                    $"select contacts from {tables.Changes} where generation = @g and version > @from and version <= @to", connection, transaction);
                command.Parameters.AddWithValue("g", generation);
                command.Parameters.AddWithValue("from", funnelVersion);
                command.Parameters.AddWithValue("to", state.Version);
                await using var reader = await command.ExecuteReaderAsync(cancellation);
                long versions = 0;
                while (await reader.ReadAsync(cancellation))
                {
                    versions++;
                    foreach (var contact in reader.GetFieldValue<Guid[]>(0)) changed.Add(contact);
                }
                if (versions != state.Version - funnelVersion) return null;
            }
            if (changed.Count > FunnelIndexes.MaxPatch) return null;
            if (changed.Count > 0)
            {
                var read = await ReadAsync(connection, transaction, changed.ToArray(), cancellation);
                lock (sync)
                {
                    // Persons without a value now (a trait removed, a person gone) go back to none.
                    foreach (var contact in changed) read.TryAdd(contact, (null, NotSent));
                    Store(read);
                }
            }
            lock (sync)
            {
                mark = Math.Max(mark, now);
                funnelVersion = Math.Max(funnelVersion, state.Version);
                return (Codes(choice), values.ToArray());
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private int[] Codes(Choice choice)
    {
        var result = new int[choice.Count];
        if (breakdown.Kind == FunnelBreakdownKind.Trait)
        {
            for (var i = 0; i < choice.Count; i++)
            {
                var ordinal = choice.Contact[i];
                result[i] = ordinal < codes.Length ? codes[ordinal] : 0;
            }
            return result;
        }
        var exposed = Encode(FunnelReports.Exposed);
        var notExposed = Encode(FunnelReports.NotExposed);
        for (var i = 0; i < choice.Count; i++)
        {
            var ordinal = choice.Contact[i];
            result[i] = (ordinal < sent.Length ? sent[ordinal] : NotSent) < choice.At[i] ? exposed : notExposed;
        }
        return result;
    }

    private void Store(Dictionary<Guid, (string? Value, long Sent)> read)
    {
        foreach (var (contact, (value, first)) in read)
        {
            var ordinal = Lineage.Ordinal(contact);
            if (ordinal >= codes.Length)
            {
                var size = Math.Max(Lineage.Count, ordinal + 1) + 1024;
                Array.Resize(ref codes, size);
                var grown = sent.Length;
                Array.Resize(ref sent, size);
                Array.Fill(sent, NotSent, grown, size - grown);
            }
            codes[ordinal] = value is null ? 0 : Encode(value);
            sent[ordinal] = first;
        }
    }

    private int Encode(string value)
    {
        if (encoded.TryGetValue(value, out var code)) return code;
        values.Add(value);
        return encoded[value] = values.Count - 1;
    }

    /// <summary>The values of these persons (null: every person of the generation).</summary>
    private async Task<Dictionary<Guid, (string? Value, long Sent)>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid[]? persons, CancellationToken cancellation)
    {
        var result = new Dictionary<Guid, (string?, long)>();
        var who = persons is null ? $"(select distinct contact_id from {tables.People} where generation = @g)" : "unnest(@persons)";
        var sql = breakdown.Kind == FunnelBreakdownKind.Trait
            ? $"select c.contact_id, {FunnelReports.GroupExpression(tables, FunnelBreakdownKind.Trait)}, null::timestamptz from {who} as c(contact_id)"
            : $"select m.contact_id, null::text, min((e.data ->> 'SentAt')::timestamptz) from {tables.People} m " +
              $"join {tables.Events} e on e.stream_id = m.stream_id where m.generation = @g " +
              (persons is null ? "" : "and m.contact_id = any(@persons) ") +
              "and e.tenant_id = @tenant and e.type = @sent and e.data ->> 'Rule' = @name group by m.contact_id";
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.CommandTimeout = 0;
        command.Parameters.AddWithValue("g", generation);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("name", breakdown.Name);
        command.Parameters.AddWithValue("sent", typeof(MessageSent).GetEventTypeName());
        if (persons is not null) command.Parameters.AddWithValue("persons", persons);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            result[reader.GetGuid(0)] = (reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? NotSent : FunnelIndexes.Micros(reader.GetFieldValue<DateTime>(2)));
        }
        return result;
    }

    /// <summary>The event store's high-water mark (the async daemon's: every event at or below it is committed).</summary>
    private async Task<long> MarkAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"select last_seq_id from {tables.Schema}.mt_event_progression where name = 'HighWaterMark'", connection, transaction);
        return await command.ExecuteScalarAsync(cancellation) is long value ? value : 0;
    }

    private async Task<long> VersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand($"select version from {tables.Versions} where generation = @g", connection, transaction);
        command.Parameters.AddWithValue("g", generation);
        return await command.ExecuteScalarAsync(cancellation) is long value ? value : 0;
    }
}
