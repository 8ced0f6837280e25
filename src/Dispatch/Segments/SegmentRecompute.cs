using System.Runtime.CompilerServices;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Projections.Segments;
using JasperFx.Events;
using Marten;
using Marten.Storage;
using NodaTime;
using NodaTime.Text;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedJourneys.Dispatch.Segments;

/// <summary>A segment to recompute, into a fresh generation of membership rows.</summary>
public sealed record SegmentTarget(LiveSegment Segment, Guid Generation);

/// <summary>What a recompute wrote: each segment's size, and the contacts whose answer can change by time alone
/// (with the earliest instant), to be reviewed then.</summary>
public sealed record RecomputeResult(IReadOnlyDictionary<string, long> Sizes, IReadOnlyList<PlannedReview> Reviews, long Contacts, long Events);

public sealed record PlannedReview(Guid ContactId, Instant DueAt);

/// <summary>
/// Recomputes segments over a whole workspace from its history, in bulk — the path every rebuild takes (ADR 0011):
/// only the events the segments count are read (by name), streamed by contact in one ordered query, each contact is
/// evaluated in memory with the same compiled conditions as live, and the members are written with COPY into the new
/// generation. Profiles are read only when a segment reads traits or context, or when a contact with no history would be
/// in a segment. Contacts touched by a merge (rare) are evaluated one by one through the engine's own fact loader.
/// </summary>
public sealed class SegmentRecompute(IDocumentStore store, IContactFacts contacts)
{
    private const int ProgressEvery = 20_000;

    public async Task<RecomputeResult> RunAsync(string workspace, IReadOnlyList<SegmentTarget> targets, long upToSequence, Instant now,
        IProgress<RebuildProgress>? progress, CancellationToken cancellation)
    {
        var reads = targets.Select(t => t.Segment.Compiled.Reads).ToArray();
        var eventNames = reads.SelectMany(r => r.EventNames).Distinct(StringComparer.Ordinal).ToArray();
        var eventDetails = reads.Any(r => r.ReadsEventDetails);
        var profiles = reads.Any(r => r.ReadsProfile);
        // If a contact with no history and an empty profile is in some segment, every contact has to be visited.
        var everyContact = profiles || targets.Any(t => t.Segment.Compiled.Contains(ContactSnapshot.Empty, now));

        var database = store.Storage.Database;
        var schema = store.Options.DatabaseSchemaName;
        var mergeTouched = await MergeTouchedAsync(database, schema, workspace, cancellation);
        var total = await CountContactsAsync(database, schema, workspace, cancellation);

        var sizes = new long[targets.Count];
        var reviews = new List<PlannedReview>();
        long visited = 0, eventCount = 0;
        var since = now.ToDateTimeOffset();

        await using var writeConnection = database.CreateConnection();
        await writeConnection.OpenAsync(cancellation);
        await using (var writer = await writeConnection.BeginBinaryImportAsync(
                         $"copy {schema}.{SegmentTables.Members} (generation, contact_id, tenant_id, since) from stdin (format binary)", cancellation))
        {
            async Task EvaluateAsync(Guid contactId, ContactSnapshot snapshot)
            {
                Instant? next = null;
                for (var i = 0; i < targets.Count; i++)
                {
                    if (targets[i].Segment.Compiled.Contains(snapshot, now))
                    {
                        sizes[i]++;
                        await writer.StartRowAsync(cancellation);
                        await writer.WriteAsync(targets[i].Generation, NpgsqlDbType.Uuid, cancellation);
                        await writer.WriteAsync(contactId, NpgsqlDbType.Uuid, cancellation);
                        await writer.WriteAsync(workspace, NpgsqlDbType.Text, cancellation);
                        await writer.WriteAsync(since, NpgsqlDbType.TimestampTz, cancellation);
                    }
                    if (reads[i].NextChange(snapshot, now) is { } at && (next is null || at < next)) next = at;
                }
                if (next is { } due) reviews.Add(new PlannedReview(contactId, due));
                if (++visited % ProgressEvery == 0) progress?.Report(new RebuildProgress(visited, Math.Max(total, visited), "contacts"));
            }

            var histories = HistoriesAsync(database, schema, workspace, upToSequence, eventNames, eventDetails, cancellation)
                .GetAsyncEnumerator(cancellation);
            var hasHistory = await histories.MoveNextAsync();
            if (everyContact)
            {
                await foreach (var (contactId, profile) in ProfilesAsync(database, schema, workspace, profiles, cancellation))
                {
                    while (hasHistory && PostgresOrder.Compare(histories.Current.ContactId, contactId) < 0) hasHistory = await histories.MoveNextAsync();
                    IReadOnlyList<RecordedEvent> events = [];
                    if (hasHistory && histories.Current.ContactId == contactId)
                    {
                        events = histories.Current.Events;
                        hasHistory = await histories.MoveNextAsync();
                    }
                    if (mergeTouched.Contains(contactId)) continue;
                    eventCount += events.Count;
                    await EvaluateAsync(contactId, ProfileContactFacts.Snapshot(profile, events));
                }
            }
            else
            {
                for (; hasHistory; hasHistory = await histories.MoveNextAsync())
                {
                    var (contactId, events) = histories.Current;
                    if (mergeTouched.Contains(contactId)) continue;
                    eventCount += events.Count;
                    await EvaluateAsync(contactId, new ContactSnapshot(ObjectValue.Empty, ObjectValue.Empty, events));
                }
            }
            await histories.DisposeAsync();

            // Survivors of merges read the whole person (their streams and the absorbed ones); absorbed contacts are in no segment.
            await using var session = store.QuerySession(workspace);
            foreach (var contactId in mergeTouched.Order())
            {
                var profile = await session.LoadAsync<ContactProfile>(contactId, cancellation);
                if (profile is null || profile.MergedInto is not null) continue;
                var facts = await contacts.LoadAsync(session, contactId, cancellation);
                eventCount += facts.Events.Count;
                await EvaluateAsync(contactId, facts.Snapshot);
            }
            await writer.CompleteAsync(cancellation);
        }
        progress?.Report(new RebuildProgress(visited, Math.Max(total, visited), "contacts"));
        var bySegment = targets.Select((t, i) => (t.Segment.Name, Size: sizes[i])).ToDictionary(p => p.Name, p => p.Size, StringComparer.Ordinal);
        return new RecomputeResult(bySegment, reviews, visited, eventCount);
    }

    /// <summary>Each contact's events with the given names (stored up to <paramref name="upToSequence"/>), one contact at a
    /// time in the database's uuid order.</summary>
    private static async IAsyncEnumerable<(Guid ContactId, List<RecordedEvent> Events)> HistoriesAsync(IMartenDatabase database, string schema,
        string workspace, long upToSequence, string[] eventNames, bool details, [EnumeratorCancellation] CancellationToken cancellation)
    {
        if (eventNames.Length == 0) yield break;
        var tracked = typeof(ContactTracked).GetEventTypeName();
        var page = typeof(PageViewed).GetEventTypeName();
        var screen = typeof(ScreenViewed).GetEventTypeName();
        var columns = details ? ", data->>'Properties', data->>'Context'" : "";
        var sql = $"""
            select stream_id, case type when '{page}' then 'page' when '{screen}' then 'screen' else data->>'Event' end, data->>'Timestamp'{columns}
            from {schema}.mt_events
            where tenant_id = $1 and seq_id <= $2 and is_archived = false
              and ((type = '{tracked}' and data->>'Event' = any($3)) or (type = '{page}' and $4) or (type = '{screen}' and $5))
            order by stream_id
            """;
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace });
        command.Parameters.Add(new NpgsqlParameter { Value = upToSequence });
        command.Parameters.Add(new NpgsqlParameter { Value = eventNames });
        command.Parameters.Add(new NpgsqlParameter { Value = eventNames.Contains("page") });
        command.Parameters.Add(new NpgsqlParameter { Value = eventNames.Contains("screen") });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        Guid current = default;
        List<RecordedEvent>? events = null;
        while (await reader.ReadAsync(cancellation))
        {
            var contactId = reader.GetGuid(0);
            var name = reader.GetString(1);
            var timestamp = InstantPattern.ExtendedIso.Parse(reader.GetString(2)).Value;
            var properties = details && !reader.IsDBNull(3) ? Value.ParseJson(reader.GetString(3)) as ObjectValue ?? ObjectValue.Empty : ObjectValue.Empty;
            var context = details && !reader.IsDBNull(4) ? Value.ParseJson(reader.GetString(4)) as ObjectValue ?? ObjectValue.Empty : ObjectValue.Empty;
            if (events is null || contactId != current)
            {
                if (events is not null) yield return (current, events);
                current = contactId;
                events = [];
            }
            // One string instance per name keeps a million histories light.
            if (!names.TryGetValue(name, out var interned)) names[name] = interned = name;
            events.Add(new RecordedEvent(interned, timestamp, properties, context));
        }
        if (events is not null) yield return (current, events);
    }

    /// <summary>Every contact of the workspace in the database's uuid order, with its profile when it is needed.</summary>
    private async IAsyncEnumerable<(Guid ContactId, ContactProfile? Profile)> ProfilesAsync(IMartenDatabase database, string schema,
        string workspace, bool withProfile, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var serializer = store.Options.Serializer();
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"select id{(withProfile ? ", data" : "")} from {schema}.{ProfileTable} where tenant_id = $1 order by id", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace });
        // Not SequentialAccess: the serializer reads the document column as a stream of its own.
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var id = reader.GetGuid(0);
            yield return (id, withProfile ? serializer.FromJson<ContactProfile>(reader, 1) : null);
        }
    }

    private const string ProfileTable = "mt_doc_contactprofile";

    private static async Task<HashSet<Guid>> MergeTouchedAsync(IMartenDatabase database, string schema, string workspace, CancellationToken cancellation)
    {
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"select id from {schema}.{ProfileTable} where tenant_id = $1 " +
            "and (data->>'MergedInto' is not null or coalesce(jsonb_array_length(data->'MergedContactIds'), 0) > 0)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace });
        var ids = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) ids.Add(reader.GetGuid(0));
        return ids;
    }

    private static async Task<long> CountContactsAsync(IMartenDatabase database, string schema, string workspace, CancellationToken cancellation)
    {
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand($"select count(*) from {schema}.{ProfileTable} where tenant_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace });
        return (long)(await command.ExecuteScalarAsync(cancellation) ?? 0L);
    }
}

/// <summary>PostgreSQL orders uuids by their bytes in network order; .NET's <see cref="Guid.CompareTo(Guid)"/> does not.</summary>
public static class PostgresOrder
{
    public static int Compare(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, bigEndian: true, out _);
        b.TryWriteBytes(y, bigEndian: true, out _);
        return x.SequenceCompareTo(y);
    }
}
