using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Dsl.Compilation;
using JasperFx.Events;
using NodaTime.Text;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>A person as funnels count them: the surviving contact and every stream holding its history (merges).</summary>
public sealed record FunnelPerson(Guid ContactId, IReadOnlyList<Guid> Streams);

/// <summary>
/// The funnel tables (ADR 0012, ADR 0013) and the reads and writes shared by the live projection and the rebuild:
/// <c>funnel_chains</c> holds one narrow row per step-1 event and generation (contact, step-1 time and sequence, depth,
/// the steps' times in epoch microseconds), indexed for range scans by step-1 time; <c>funnel_periods</c> holds each
/// contact's best of those chains per UTC day, month, year and over the whole history; <c>funnel_people</c> maps every
/// stream of a counted person to the person, for breakdowns; <c>funnel_dirty</c> lists the streams the live projection
/// wrote into a generation that is still being rebuilt, so the rebuild's older snapshot never overwrites them.
/// </summary>
public sealed class FunnelStore(string schema)
{
    private static readonly string[] TrackingTypes =
        [typeof(ContactTracked).GetEventTypeName(), typeof(PageViewed).GetEventTypeName(), typeof(ScreenViewed).GetEventTypeName()];

    public string Schema { get; } = schema;
    public string Chains => $"{Schema}.funnel_chains";
    public string Periods => $"{Schema}.funnel_periods";
    public string People => $"{Schema}.funnel_people";
    public string Dirty => $"{Schema}.funnel_dirty";
    public string Versions => $"{Schema}.funnel_versions";
    public string Changes => $"{Schema}.funnel_changes";
    public string Events => $"{Schema}.mt_events";
    public string Profiles => $"{Schema}.mt_doc_contactprofile";

    public static IReadOnlyList<string> TrackingEventTypes => TrackingTypes;

    /// <summary>The tables, created and migrated with the rest of the store's schema.</summary>
    public IEnumerable<Weasel.Core.ISchemaObject> SchemaObjects()
    {
        var chains = new Table(new PostgresqlObjectName(Schema, "funnel_chains", SchemaUtils.IdentifierUsage.General));
        chains.AddColumn<Guid>("generation").NotNull();
        chains.AddColumn<Guid>("contact_id").NotNull();
        chains.AddColumn("step1_at", "timestamptz").NotNull();
        chains.AddColumn<long>("step1_seq").NotNull();
        chains.AddColumn<short>("depth").NotNull();
        chains.AddColumn("times", "bigint[]").NotNull();
        chains.Indexes.Add(new IndexDefinition("ix_funnel_chains_range")
        {
            Columns = ["generation", "step1_at"],
            IncludeColumns = ["contact_id", "depth", "step1_seq", "times"],
        });
        chains.Indexes.Add(new IndexDefinition("ix_funnel_chains_contact") { Columns = ["generation", "contact_id"] });
        yield return chains;

        var periods = new Table(new PostgresqlObjectName(Schema, "funnel_periods", SchemaUtils.IdentifierUsage.General));
        periods.AddColumn<Guid>("generation").NotNull();
        periods.AddColumn<short>("kind").NotNull();
        periods.AddColumn("period_start", "timestamptz").NotNull();
        periods.AddColumn<Guid>("contact_id").NotNull();
        periods.AddColumn("step1_at", "timestamptz").NotNull();
        periods.AddColumn<long>("step1_seq").NotNull();
        periods.AddColumn<short>("depth").NotNull();
        periods.AddColumn("times", "bigint[]").NotNull();
        // Ordered by contact within a period: a union of periods merges sorted runs instead of sorting every row.
        periods.Indexes.Add(new IndexDefinition("ix_funnel_periods_range")
        {
            Columns = ["generation", "kind", "period_start", "contact_id"],
            IncludeColumns = ["depth", "step1_at", "step1_seq", "times"],
        });
        periods.Indexes.Add(new IndexDefinition("ix_funnel_periods_contact") { Columns = ["generation", "contact_id"] });
        yield return periods;

        var people = new Table(new PostgresqlObjectName(Schema, "funnel_people", SchemaUtils.IdentifierUsage.General));
        people.AddColumn<Guid>("generation").AsPrimaryKey();
        people.AddColumn<Guid>("stream_id").AsPrimaryKey();
        people.AddColumn<Guid>("contact_id").NotNull();
        people.Indexes.Add(new IndexDefinition("ix_funnel_people_contact") { Columns = ["generation", "contact_id"] });
        yield return people;

        var dirty = new Table(new PostgresqlObjectName(Schema, "funnel_dirty", SchemaUtils.IdentifierUsage.General));
        dirty.AddColumn<Guid>("generation").AsPrimaryKey();
        dirty.AddColumn<Guid>("stream_id").AsPrimaryKey();
        yield return dirty;

        // ADR 0017: a generation's version counts the live writes into it; each write lists the contacts it replaced.
        // The version row is updated last in the writer's transaction, so versions become visible in order.
        var versions = new Table(new PostgresqlObjectName(Schema, "funnel_versions", SchemaUtils.IdentifierUsage.General));
        versions.AddColumn<Guid>("generation").AsPrimaryKey();
        versions.AddColumn<long>("version").NotNull();
        yield return versions;

        var changes = new Table(new PostgresqlObjectName(Schema, "funnel_changes", SchemaUtils.IdentifierUsage.General));
        changes.AddColumn<Guid>("generation").AsPrimaryKey();
        changes.AddColumn<long>("version").AsPrimaryKey();
        changes.AddColumn("contacts", "uuid[]").NotNull();
        yield return changes;
    }

    /// <summary>The persons holding these streams, by the contact profiles (a merged stream belongs to its survivor).</summary>
    public async Task<IReadOnlyList<FunnelPerson>> PeopleOfAsync(NpgsqlConnection connection, string tenant, IEnumerable<Guid> streams,
        CancellationToken cancellation)
    {
        var profiles = new Dictionary<Guid, (Guid? MergedInto, Guid[] Merged)>();
        async Task LoadAsync(IEnumerable<Guid> ids)
        {
            var missing = ids.Where(id => !profiles.ContainsKey(id)).Distinct().ToArray();
            if (missing.Length == 0) return;
            foreach (var id in missing) profiles[id] = (null, []);
            await using var command = new NpgsqlCommand(
                $"select id, data ->> 'MergedInto', data -> 'MergedContactIds' from {Profiles} where tenant_id = @tenant and id = any(@ids)", connection);
            command.Parameters.AddWithValue("tenant", tenant);
            command.Parameters.AddWithValue("ids", missing);
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                var into = reader.IsDBNull(1) ? (Guid?)null : Guid.Parse(reader.GetString(1));
                var merged = reader.IsDBNull(2) ? [] : JsonSerializer.Deserialize<Guid[]>(reader.GetString(2)) ?? [];
                profiles[reader.GetGuid(0)] = (into, merged);
            }
        }

        var survivors = new Dictionary<Guid, Guid>();
        var pending = streams.Distinct().ToList();
        await LoadAsync(pending);
        foreach (var stream in pending)
        {
            var current = stream;
            for (var hops = 0; hops < 10 && profiles[current].MergedInto is { } into; hops++)
            {
                await LoadAsync([into]);
                current = into;
            }
            survivors[stream] = current;
        }

        var people = new List<FunnelPerson>();
        foreach (var survivor in survivors.Values.Distinct())
        {
            var all = new List<Guid> { survivor };
            var seen = new HashSet<Guid> { survivor };
            for (var i = 0; i < all.Count && all.Count < 100; i++)
            {
                await LoadAsync([all[i]]);
                foreach (var merged in profiles[all[i]].Merged)
                {
                    if (seen.Add(merged)) all.Add(merged);
                }
            }
            people.Add(new FunnelPerson(survivor, all));
        }
        return people;
    }

    /// <summary>The tracked events (track, page, screen) of these streams that can be steps of the funnels, by stream.</summary>
    public async Task<Dictionary<Guid, List<FunnelEvent>>> EventsOfAsync(NpgsqlConnection connection, string tenant, IReadOnlyCollection<Guid> streams,
        IReadOnlyCollection<EventMatcher> steps, CancellationToken cancellation)
    {
        var result = new Dictionary<Guid, List<FunnelEvent>>();
        await using var command = StepEventsCommand(connection, tenant, steps, "and stream_id = any(@streams)", "");
        command.Parameters.AddWithValue("streams", streams.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var stream = reader.GetGuid(1);
            if (!result.TryGetValue(stream, out var list)) result[stream] = list = [];
            list.Add(ReadStepEvent(reader));
        }
        return result;
    }

    /// <summary>
    /// Reads the step events of a workspace (a funnel step is a tracked event's name, or <c>page</c>/<c>screen</c>) with
    /// jsonb operators, taking from each stored event only what funnels look at: its name and event time, and its
    /// properties and context only when a step has a <c>where</c> filter (a filter may read any of the contact's step
    /// events, so then all of them carry their properties). Columns: sequence, stream, name, timestamp, properties,
    /// context (see <see cref="ReadStepEvent"/>).
    /// </summary>
    public NpgsqlCommand StepEventsCommand(NpgsqlConnection connection, string tenant, IReadOnlyCollection<EventMatcher> steps,
        string where, string orderBy)
    {
        var payload = steps.Any(s => s.HasFilter) ? "data -> 'Properties', data -> 'Context'" : "null::jsonb, null::jsonb";
        var command = new NpgsqlCommand(
            "select seq_id, stream_id, case type when @tracked then data ->> 'Event' when @page then 'page' else 'screen' end, " +
            $"data ->> 'Timestamp', {payload} " +
            $"from {Events} where tenant_id = @tenant and type = any(@types) and (type <> @tracked or data ->> 'Event' = any(@names)) {where} {orderBy}",
            connection);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("types", TrackingTypes);
        command.Parameters.AddWithValue("tracked", TrackingTypes[0]);
        command.Parameters.AddWithValue("page", TrackingTypes[1]);
        command.Parameters.AddWithValue("names", steps.Select(s => s.EventName).Distinct().ToArray());
        return command;
    }

    /// <summary>A row of <see cref="StepEventsCommand"/> as funnels see it: the same view rules have of the event, with
    /// empty properties and context where no filter reads them.</summary>
    public static FunnelEvent ReadStepEvent(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), new RecordedEvent(
            reader.GetString(2),
            InstantPattern.ExtendedIso.Parse(reader.GetString(3)).GetValueOrThrow(),
            reader.IsDBNull(4) ? ObjectValue.Empty : Value.ParseJson(reader.GetString(4)) as ObjectValue ?? ObjectValue.Empty,
            reader.IsDBNull(5) ? ObjectValue.Empty : Value.ParseJson(reader.GetString(5)) as ObjectValue ?? ObjectValue.Empty));

    /// <summary>Serializes writers of the same streams (live projection, rebuild) until the transaction ends.</summary>
    public static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenant, IEnumerable<Guid> streams,
        CancellationToken cancellation)
    {
        var keys = streams.Select(s => LockKey(tenant, s)).Distinct().Order().ToArray();
        if (keys.Length == 0) return;
        await using var command = new NpgsqlCommand(
            "select count(pg_advisory_xact_lock(k)) from (select unnest(@keys) as k order by 1) s", connection, transaction);
        command.Parameters.AddWithValue("keys", keys);
        await command.ExecuteScalarAsync(cancellation);
    }

    private static long LockKey(string tenant, Guid stream)
    {
        // FNV-1a over the tenant and the stream id: stable across processes (string.GetHashCode is not).
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(tenant).Concat(stream.ToByteArray()))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return unchecked((long)hash);
    }

    /// <summary>Replaces the rows of these persons in one generation with their chains (persons without chains get none).
    /// With <paramref name="skipDirty"/> (the rebuild), persons the live projection already wrote are left as they are.</summary>
    public async Task ReplaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid generation,
        IReadOnlyList<(FunnelPerson Person, IReadOnlyList<FunnelChain> Chains)> computed, bool markDirty, bool skipDirty,
        CancellationToken cancellation)
    {
        var rows = computed;
        if (skipDirty)
        {
            var dirty = new HashSet<Guid>();
            await using (var find = new NpgsqlCommand($"select stream_id from {Dirty} where generation = @g and stream_id = any(@streams)", connection, transaction))
            {
                find.Parameters.AddWithValue("g", generation);
                find.Parameters.AddWithValue("streams", computed.SelectMany(c => c.Person.Streams).ToArray());
                await using var reader = await find.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation)) dirty.Add(reader.GetGuid(0));
            }
            if (dirty.Count > 0) rows = computed.Where(c => !c.Person.Streams.Any(dirty.Contains)).ToList();
        }
        if (rows.Count == 0) return;

        var streams = rows.SelectMany(r => r.Person.Streams).Distinct().ToArray();
        await using (var delete = new NpgsqlCommand(
            $"delete from {Chains} where generation = @g and contact_id = any(@streams); " +
            $"delete from {Periods} where generation = @g and contact_id = any(@streams); " +
            $"delete from {People} where generation = @g and (stream_id = any(@streams) or contact_id = any(@streams));" +
            (markDirty ? $"insert into {Dirty} (generation, stream_id) select @g, unnest(@streams) on conflict do nothing;" : ""),
            connection, transaction))
        {
            delete.Parameters.AddWithValue("g", generation);
            delete.Parameters.AddWithValue("streams", streams);
            await delete.ExecuteNonQueryAsync(cancellation);
        }

        await using (var chains = await connection.BeginBinaryImportAsync(
            $"copy {Chains} (generation, contact_id, step1_at, step1_seq, depth, times) from stdin (format binary)", cancellation))
        {
            foreach (var (person, list) in rows)
            {
                foreach (var chain in list)
                {
                    await chains.StartRowAsync(cancellation);
                    await chains.WriteAsync(generation, NpgsqlDbType.Uuid, cancellation);
                    await chains.WriteAsync(person.ContactId, NpgsqlDbType.Uuid, cancellation);
                    await chains.WriteAsync(chain.Step1At.ToDateTimeUtc(), NpgsqlDbType.TimestampTz, cancellation);
                    await chains.WriteAsync(chain.Step1Sequence, NpgsqlDbType.Bigint, cancellation);
                    await chains.WriteAsync((short)chain.Depth, NpgsqlDbType.Smallint, cancellation);
                    await chains.WriteAsync(chain.Times.Select(Microseconds).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellation);
                }
            }
            await chains.CompleteAsync(cancellation);
        }

        await using (var periods = await connection.BeginBinaryImportAsync(
            $"copy {Periods} (generation, kind, period_start, contact_id, step1_at, step1_seq, depth, times) from stdin (format binary)", cancellation))
        {
            foreach (var (person, list) in rows)
            {
                foreach (var best in FunnelPeriods.Best(list))
                {
                    await periods.StartRowAsync(cancellation);
                    await periods.WriteAsync(generation, NpgsqlDbType.Uuid, cancellation);
                    await periods.WriteAsync((short)best.Kind, NpgsqlDbType.Smallint, cancellation);
                    await periods.WriteAsync(best.Start.ToDateTimeUtc(), NpgsqlDbType.TimestampTz, cancellation);
                    await periods.WriteAsync(person.ContactId, NpgsqlDbType.Uuid, cancellation);
                    await periods.WriteAsync(best.Chain.Step1At.ToDateTimeUtc(), NpgsqlDbType.TimestampTz, cancellation);
                    await periods.WriteAsync(best.Chain.Step1Sequence, NpgsqlDbType.Bigint, cancellation);
                    await periods.WriteAsync((short)best.Chain.Depth, NpgsqlDbType.Smallint, cancellation);
                    await periods.WriteAsync(best.Chain.Times.Select(Microseconds).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellation);
                }
            }
            await periods.CompleteAsync(cancellation);
        }

        await using (var people = await connection.BeginBinaryImportAsync(
            $"copy {People} (generation, stream_id, contact_id) from stdin (format binary)", cancellation))
        {
            foreach (var (person, list) in rows)
            {
                if (list.Count == 0) continue;
                foreach (var stream in person.Streams)
                {
                    await people.StartRowAsync(cancellation);
                    await people.WriteAsync(generation, NpgsqlDbType.Uuid, cancellation);
                    await people.WriteAsync(stream, NpgsqlDbType.Uuid, cancellation);
                    await people.WriteAsync(person.ContactId, NpgsqlDbType.Uuid, cancellation);
                }
            }
            await people.CompleteAsync(cancellation);
        }
        if (skipDirty) return;

        // Live writes are versioned for the in-memory indexes (ADR 0017); the rebuild fills a generation before any report
        // reads it. Last in the transaction: the version row stays locked only until the caller commits, right after.
        await using var version = new NpgsqlCommand(
            $"with v as (insert into {Versions} as t (generation, version) values (@g, 1) " +
            "on conflict (generation) do update set version = t.version + 1 returning version), " +
            $"c as (insert into {Changes} (generation, version, contacts) select @g, version, @streams from v returning version) " +
            $"delete from {Changes} where generation = @g and version <= (select version from c) - {ChangesKept}", connection, transaction);
        version.Parameters.AddWithValue("g", generation);
        version.Parameters.AddWithValue("streams", streams);
        await version.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>Drops a generation's rows (a replaced generation, or one abandoned by a newer definition).</summary>
    public async Task DropAsync(NpgsqlConnection connection, Guid generation, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"delete from {Chains} where generation = @g; delete from {Periods} where generation = @g; " +
            $"delete from {People} where generation = @g; delete from {Dirty} where generation = @g; " +
            $"delete from {Versions} where generation = @g; delete from {Changes} where generation = @g;",
            connection);
        command.Parameters.AddWithValue("g", generation);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    public static long Microseconds(NodaTime.Instant instant) => instant.ToUnixTimeTicks() / 10;

    /// <summary>How many versions of changes a generation keeps: an index further behind reloads.</summary>
    public const int ChangesKept = 10_000;
}
