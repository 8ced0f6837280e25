using System.Reflection;
using JasperFx.Events;
using JasperFx.Events.Aggregation;
using JasperFx.Events.Daemon;
using Marten;
using Marten.Events;
using Marten.Events.Aggregation;
using Marten.Internal;
using Marten.Schema;
using Npgsql;
using Weasel.Core;
using Weasel.Storage;

namespace EventSourcedJourneys.Projections.Rebuilds;

/// <summary>
/// Builds the next generation of a single-stream projection's documents from every event up to a committed sequence,
/// without the async daemon (ADR 0015): the events are read ordered by stream — by several readers over disjoint ranges of
/// streams, in parallel — each stream is folded by the projection's own <c>DetermineActionAsync</c> (the code inline
/// processing and the daemon run, so the result is the same document), and the documents are written with binary COPY.
/// Only streams the projection folds in one go qualify: <see cref="For"/> answers null for anything else, and the caller
/// uses the daemon.
/// </summary>
internal interface IStreamByStreamBuild
{
    /// <summary>Writes the document of every stream with events up to <paramref name="ceiling"/> into the (empty) table of
    /// <paramref name="shadow"/>; reports the events folded so far.</summary>
    Task<long> BuildAsync(DocumentStore shadow, long ceiling, Action<long> folded, CancellationToken cancellation);

    /// <summary>False for a projection whose events the daemon selects by more than their type (stream type, or one
    /// document across workspaces).</summary>
    bool Applies { get; }
}

internal static class StreamByStreamBuild
{
    /// <summary>Readers over disjoint stream ranges: each keeps a PostgreSQL backend and a .NET thread busy.</summary>
    internal static int Readers => Math.Clamp(Environment.ProcessorCount, 2, 4);

    /// <summary>The stream-by-stream build of <paramref name="projection"/>, or null when it needs the daemon: not a
    /// single-stream projection of Guid- or string-keyed streams, or one that enriches events with other data per batch,
    /// is global across tenants, or soft-deletes its documents.</summary>
    public static IStreamByStreamBuild? For(object projection, IDocumentType documentType)
    {
        var single = BaseTypes(projection.GetType())
            .FirstOrDefault(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(SingleStreamProjection<,>));
        if (single is null) return null;
        var (document, id) = (single.GetGenericArguments()[0], single.GetGenericArguments()[1]);
        if (id != typeof(Guid) && id != typeof(string)) return null;
        if (documentType is DocumentMapping { DeleteStyle: JasperFx.DeleteStyle.SoftDelete }) return null;
        var enriches = projection.GetType().GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Any(m => m.Name.EndsWith("EnrichEventsAsync", StringComparison.Ordinal) && m.DeclaringType is { IsGenericType: false } declaring
                      && declaring.Assembly != typeof(SingleStreamProjection<,>).Assembly
                      && declaring.Assembly != typeof(IEvent).Assembly);
        if (enriches) return null;
        var build = (IStreamByStreamBuild)Activator.CreateInstance(typeof(StreamByStreamBuild<,>).MakeGenericType(document, id), projection)!;
        return build.Applies ? build : null;
    }

    private static IEnumerable<Type> BaseTypes(Type? type)
    {
        for (; type is not null; type = type.BaseType) yield return type;
    }
}

internal sealed class StreamByStreamBuild<TDoc, TId>(SingleStreamProjection<TDoc, TId> projection) : IStreamByStreamBuild
    where TDoc : notnull where TId : notnull
{
    /// <summary>Documents per COPY.</summary>
    private const int WriteBatch = 2_000;

    /// <summary>Events between two progress reports of one reader.</summary>
    private const int ReportEvery = 10_000;

    private readonly IAggregationProjection<TDoc, TId, IDocumentOperations, IQuerySession> _aggregation = projection;

    public bool Applies => projection.StreamType is null && !projection.IsGlobalWithinConjoinedTenancy;

    public async Task<long> BuildAsync(DocumentStore shadow, long ceiling, Action<long> folded, CancellationToken cancellation)
    {
        var events = $"{shadow.Options.Events.DatabaseSchemaName}.mt_events";
        var bounds = await StreamBoundsAsync(shadow, StreamByStreamBuild.Readers, cancellation);
        var table = ((IReadOnlyStoreOptions)shadow.Options).FindOrResolveDocumentType(typeof(TDoc)).TableName;
        var numericRevisions = await HasNumericRevisionsAsync(shadow, table, cancellation);
        var total = 0L;
        void Report(long count) => folded(Interlocked.Add(ref total, count));

        var readers = Enumerable.Range(0, bounds.Count + 1)
            .Select(i => Task.Run(() => FoldRangeAsync(shadow, events, table, numericRevisions, ceiling,
                i == 0 ? null : bounds[i - 1], i == bounds.Count ? null : bounds[i], Report, cancellation), cancellation))
            .ToList();
        await Task.WhenAll(readers);
        return total;
    }

    /// <summary>Folds the streams from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), by
    /// workspace and stream id, the order of the events table's unique index.</summary>
    private async Task FoldRangeAsync(DocumentStore shadow, string events, DbObjectName table, bool numericRevisions, long ceiling,
        (string Tenant, object Stream)? from, (string Tenant, object Stream)? to, Action<long> report, CancellationToken cancellation)
    {
        var sessions = new Dictionary<string, IQuerySession>(StringComparer.Ordinal);
        var pending = new Dictionary<string, List<(TDoc Document, TId Id, long Version)>>(StringComparer.Ordinal);
        try
        {
            await using var reading = shadow.QuerySession();
            var storage = ((IMartenSession)reading).StorageFor<IEvent>();
            var (sql, parameters) = Query(shadow, events, storage.SelectFields(), ceiling, from, to);

            var stream = new List<IEvent>();
            var unreported = 0;
            await foreach (var @event in reading.AdvancedSql.StreamAsync<IEvent>(sql, cancellation, parameters))
            {
                if (stream.Count > 0 && !SameStream(stream[0], @event))
                {
                    await FoldAsync(shadow, stream, sessions, pending, table, numericRevisions, cancellation);
                    stream = [];
                }
                stream.Add(@event);
                if (++unreported == ReportEvery)
                {
                    report(unreported);
                    unreported = 0;
                }
            }
            if (stream.Count > 0) await FoldAsync(shadow, stream, sessions, pending, table, numericRevisions, cancellation);
            foreach (var (tenant, documents) in pending)
            {
                if (documents.Count > 0) await WriteAsync(shadow, tenant, documents, table, numericRevisions, cancellation);
            }
            report(unreported);
        }
        finally
        {
            foreach (var session in sessions.Values) await session.DisposeAsync();
        }
    }

    private async Task FoldAsync(DocumentStore shadow, List<IEvent> stream, Dictionary<string, IQuerySession> sessions,
        Dictionary<string, List<(TDoc, TId, long)>> pending, DbObjectName table, bool numericRevisions, CancellationToken cancellation)
    {
        var tenant = stream[0].TenantId;
        if (!sessions.TryGetValue(tenant, out var session)) sessions[tenant] = session = shadow.QuerySession(tenant);
        var identity = (IIdentitySetter<TDoc, TId>)((IMartenSession)session).StorageFor<TDoc>();
        var id = StreamIdentity(stream[0]);

        // What the daemon does with a slice of one stream's events, starting from no document.
        if (_aggregation.MatchesAnyDeleteType(stream)) return;
        var (document, action) = await projection.DetermineActionAsync(session, default, id, identity, stream, cancellation);
        if (document is null || action is not (ActionType.Store or ActionType.UnDeleteAndStore)) return;
        var (last, stored) = _aggregation.TryApplyMetadata(stream, document, id, identity);

        if (!pending.TryGetValue(tenant, out var documents)) pending[tenant] = documents = new List<(TDoc, TId, long)>(WriteBatch);
        documents.Add((stored!, id, last!.Version));
        if (documents.Count < WriteBatch) return;
        await WriteAsync(shadow, tenant, documents, table, numericRevisions, cancellation);
        documents.Clear();
    }

    /// <summary>COPYs the documents in, then sets their revision to their stream's last folded version, as the daemon's
    /// upsert does for numerically revisioned documents.</summary>
    private static async Task WriteAsync(DocumentStore shadow, string tenant, List<(TDoc Document, TId Id, long Version)> documents,
        DbObjectName table, bool numericRevisions, CancellationToken cancellation)
    {
        await shadow.BulkInsertAsync(tenant, documents.Select(d => d.Document).ToList(), BulkInsertMode.InsertsOnly, WriteBatch, cancellation);
        if (!numericRevisions) return;

        await using var connection = shadow.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var update = new NpgsqlCommand(
            $"update {table.QualifiedName} t set mt_version = v.version from unnest(@ids, @versions) as v(id, version) " +
            "where t.tenant_id = @tenant and t.id = v.id", connection);
        update.Parameters.AddWithValue("ids", documents.Select(d => d.Id).ToArray());
        update.Parameters.AddWithValue("versions", documents.Select(d => d.Version).ToArray());
        update.Parameters.AddWithValue("tenant", tenant);
        await update.ExecuteNonQueryAsync(cancellation);
    }

    private (string Sql, object[] Parameters) Query(DocumentStore shadow, string events, string[] fields, long ceiling,
        (string Tenant, object Stream)? from, (string Tenant, object Stream)? to)
    {
        var parameters = new List<object> { ceiling };
        var sql = $"select {string.Join(", ", fields.Select(f => "d." + f))} from {events} d where d.seq_id <= ?";
        // The events the projection handles, by their stored type names, as the daemon's filter selects them; a
        // projection that handles an interface or a base class reads every event and skips what it does not apply.
        var handled = projection.IncludedEventTypes;
        if (handled.Count > 0 && handled.All(t => t is { IsInterface: false, IsAbstract: false }))
        {
            var graph = (EventGraph)shadow.Options.Events;
            sql += " and d.type = any(?)";
            parameters.Add(handled.Select(t => graph.EventMappingFor(t).EventTypeName).Distinct().ToArray());
        }
        if (!projection.IncludeArchivedEvents) sql += " and d.is_archived = false";
        if (from is { } lower)
        {
            sql += " and (d.tenant_id, d.stream_id) >= (?, ?)";
            parameters.AddRange([lower.Tenant, lower.Stream]);
        }
        if (to is { } upper)
        {
            sql += " and (d.tenant_id, d.stream_id) < (?, ?)";
            parameters.AddRange([upper.Tenant, upper.Stream]);
        }
        return (sql + " order by d.tenant_id, d.stream_id, d.version", [.. parameters]);
    }

    private static bool SameStream(IEvent a, IEvent b) =>
        a.TenantId == b.TenantId && EqualityComparer<TId>.Default.Equals(StreamIdentity(a), StreamIdentity(b));

    private static TId StreamIdentity(IEvent e) => typeof(TId) == typeof(Guid) ? (TId)(object)e.StreamId : (TId)(object)e.StreamKey!;

    /// <summary>Stream keys that cut the streams into <paramref name="readers"/> ranges of about equal size.</summary>
    private static async Task<List<(string Tenant, object Stream)>> StreamBoundsAsync(DocumentStore shadow, int readers,
        CancellationToken cancellation)
    {
        var streams = $"{shadow.Options.Events.DatabaseSchemaName}.mt_streams";
        await using var connection = shadow.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        long count;
        await using (var counting = new NpgsqlCommand($"select count(*) from {streams}", connection))
            count = (long)(await counting.ExecuteScalarAsync(cancellation))!;
        var bounds = new List<(string, object)>();
        for (var i = 1; i < readers && count >= readers; i++)
        {
            await using var bound = new NpgsqlCommand($"select tenant_id, id from {streams} order by tenant_id, id offset @skip limit 1", connection);
            bound.Parameters.AddWithValue("skip", count * i / readers);
            await using var reader = await bound.ExecuteReaderAsync(cancellation);
            if (await reader.ReadAsync(cancellation)) bounds.Add((reader.GetString(0), reader.GetValue(1)));
        }
        return bounds;
    }

    private static async Task<bool> HasNumericRevisionsAsync(DocumentStore shadow, DbObjectName table, CancellationToken cancellation)
    {
        await using var connection = shadow.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            "select data_type from information_schema.columns where table_schema = @schema and table_name = @name and column_name = 'mt_version'",
            connection);
        command.Parameters.AddWithValue("schema", table.Schema);
        command.Parameters.AddWithValue("name", table.Name);
        return await command.ExecuteScalarAsync(cancellation) is "bigint" or "integer";
    }
}
