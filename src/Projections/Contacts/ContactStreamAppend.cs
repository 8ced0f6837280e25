using EventSourcedJourneys.Domain.Contacts;
using JasperFx.Events;
using JasperFx.Events.Aggregation;
using JasperFx.Events.Daemon;
using Marten;
using Marten.Events;
using Marten.Events.Aggregation;
using Marten.Internal;
using Marten.Schema;
using Weasel.Storage;

namespace EventSourcedJourneys.Projections.Contacts;

/// <summary>
/// Appends a request's contact events whose only inline reader is the contact profile (ADR 0016): every stream of the
/// request in one events statement and every touched profile in one upsert, instead of Marten's per-stream append and
/// per-stream profile load and write. The rows are the ones Marten's quick append writes (same columns, versions, type
/// names and serializer), and the profile is folded by the projection's own code, so readers — the daemon, the engine's
/// subscription, rebuilds — cannot tell the difference. The caller holds the contacts' locks and commits the session.
/// </summary>
public static class ContactStreamAppend
{
    /// <summary>The events that may take this path: the profile projection reads them, no other inline projection does.</summary>
    public static readonly IReadOnlySet<Type> ProfileOnlyEvents = new HashSet<Type>
    {
        typeof(IdentityLinked), typeof(ContactTracked), typeof(ContactIdentified), typeof(PageViewed), typeof(ScreenViewed),
        typeof(ContactGrouped), typeof(ContactAliased), typeof(ChannelSubscriptionChanged), typeof(ContactMerged),
        typeof(ContactMergedInto),
    };

    public static bool Qualifies(IEnumerable<object> events) => events.All(e => ProfileOnlyEvents.Contains(e.GetType()));

    /// <summary>Queues the appends of <paramref name="streams"/> and their profiles' upsert on <paramref name="session"/>
    /// (in a transaction, holding the contacts' locks); they are written by its next SaveChanges.</summary>
    public static async Task QueueAsync(IDocumentSession session, IReadOnlyDictionary<Guid, List<object>> streams,
        CancellationToken cancellation)
    {
        if (streams.Count == 0) return;
        var options = (StoreOptions)session.DocumentStore.Options;
        var graph = (EventGraph)options.Events;
        var schema = graph.DatabaseSchemaName;
        var profiles = ((IReadOnlyStoreOptions)options).FindOrResolveDocumentType(typeof(ContactProfile)).TableName.QualifiedName;
        var serializer = options.Serializer();
        var tenant = session.TenantId;

        // The streams' versions now (the locks keep them still until commit) and their stored profiles.
        var ids = streams.Keys.ToArray();
        var stored = new Dictionary<Guid, (long Version, ContactProfile? Profile)>();
        var rows = await session.AdvancedSql.QueryAsync<string>(
            $"select s.id::text || ' ' || s.version::text || ' ' || coalesce(p.data::text, '') from {schema}.mt_streams s " +
            $"left join {profiles} p on p.tenant_id = s.tenant_id and p.id = s.id where s.tenant_id = ? and s.id = any(?)",
            cancellation, tenant, ids);
        foreach (var row in rows)
        {
            var parts = row.Split(' ', 3);
            stored[Guid.Parse(parts[0])] = (long.Parse(parts[1]), parts[2].Length == 0 ? null : serializer.FromJson<ContactProfile>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(parts[2]))));
        }

        var projection = options.Projections.All.OfType<ContactProfileProjection>().Single();
        IAggregationProjection<ContactProfile, Guid, IDocumentOperations, IQuerySession> aggregation = projection;
        var identity = (IIdentitySetter<ContactProfile, Guid>)((IMartenSession)session).StorageFor<ContactProfile>();
        var now = graph.TimeProvider.GetUtcNow();

        var events = new Events(streams.Sum(s => s.Value.Count));
        var streamVersions = new List<long>(ids.Length);
        var profileIds = new List<Guid>(ids.Length);
        var profileData = new List<string>(ids.Length);
        var profileVersions = new List<long>(ids.Length);
        foreach (var id in ids)
        {
            var (version, profile) = stored.GetValueOrDefault(id);
            var stream = new List<IEvent>(streams[id].Count);
            foreach (var data in streams[id])
            {
                var e = graph.BuildEvent(data); // with a new id, as Marten's append gives it
                e.StreamId = id;
                e.Version = ++version;
                e.TenantId = tenant;
                e.Timestamp = now;
                stream.Add(e);
                events.Add(e, serializer.ToJson(data));
            }
            streamVersions.Add(version);

            var (folded, action) = await projection.DetermineActionAsync(session, profile, id, identity, stream, cancellation);
            if (folded is null || action is not (ActionType.Store or ActionType.UnDeleteAndStore)) continue;
            var (last, document) = aggregation.TryApplyMetadata(stream, folded, id, identity);
            profileIds.Add(id);
            profileData.Add(serializer.ToJson(document!));
            profileVersions.Add(last!.Version);
        }

        session.QueueSqlCommand(
            $"with streams as (insert into {schema}.mt_streams (tenant_id, id, type, version, timestamp, created) " +
            "select ?, s.id, null, s.version, now(), now() from unnest(?::uuid[], ?::bigint[]) as s(id, version) " +
            "on conflict (tenant_id, id) do update set version = excluded.version, timestamp = now() returning 1) " +
            $"insert into {schema}.mt_events (seq_id, id, stream_id, version, data, type, tenant_id, timestamp, mt_dotnet_type, is_archived) " +
            $"select nextval('{schema}.mt_events_sequence'), e.id, e.stream, e.version, e.data::jsonb, e.type, ?, e.at, e.dotnet, false " +
            "from unnest(?::uuid[], ?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::timestamptz[], ?::text[]) as e(id, stream, version, data, type, at, dotnet)",
            tenant, ids, streamVersions.ToArray(),
            tenant, events.Ids.ToArray(), events.Streams.ToArray(), events.Versions.ToArray(), events.Data.ToArray(), events.Types.ToArray(),
            events.Timestamps.ToArray(), events.DotNetTypes.ToArray());
        if (profileIds.Count > 0)
        {
            session.QueueSqlCommand(
                $"insert into {profiles} (tenant_id, id, data, mt_last_modified, mt_dotnet_type, mt_version) " +
                "select ?, p.id, p.data::jsonb, transaction_timestamp(), ?, p.version from unnest(?::uuid[], ?::text[], ?::bigint[]) as p(id, data, version) " +
                "on conflict (tenant_id, id) do update set data = excluded.data, mt_last_modified = excluded.mt_last_modified, " +
                "mt_dotnet_type = excluded.mt_dotnet_type, mt_version = excluded.mt_version",
                tenant, typeof(ContactProfile).FullName!, profileIds.ToArray(), profileData.ToArray(), profileVersions.ToArray());
        }
        // What Marten's append sends, so the engine's subscription wakes at once (UseListenNotifyForEventAppends).
        session.QueueSqlCommand("select pg_notify('mt_events_appended', '')");
    }

    /// <summary>The events' columns, as arrays for one unnest.</summary>
    private sealed class Events(int capacity)
    {
        public List<Guid> Ids { get; } = new(capacity);
        public List<Guid> Streams { get; } = new(capacity);
        public List<long> Versions { get; } = new(capacity);
        public List<string> Data { get; } = new(capacity);
        public List<string> Types { get; } = new(capacity);
        public List<DateTimeOffset> Timestamps { get; } = new(capacity);
        public List<string> DotNetTypes { get; } = new(capacity);

        public void Add(IEvent e, string data)
        {
            Ids.Add(e.Id);
            Streams.Add(e.StreamId);
            Versions.Add(e.Version);
            Data.Add(data);
            Types.Add(e.EventTypeName);
            Timestamps.Add(e.Timestamp);
            DotNetTypes.Add(e.DotNetTypeName);
        }
    }
}
