using System.Text.Json;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Projections.Rules;
using Marten;

namespace EventSourcedJourneys.Dispatch.Audit;

/// <summary>Reads what an audit replays from the store: a person's streams, the rules' streams and their versions.</summary>
public static class AuditTrails
{
    /// <summary>Marten's type names of the decision events, and their types.</summary>
    public static readonly IReadOnlyDictionary<string, Type> DecisionTypes = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["trigger_matched"] = typeof(TriggerMatched),
        ["message_scheduled"] = typeof(MessageScheduled),
        ["message_rescheduled"] = typeof(MessageRescheduled),
        ["message_cancelled"] = typeof(MessageCancelled),
        ["message_suppressed"] = typeof(MessageSuppressed),
        ["message_sent"] = typeof(MessageSent),
        ["message_failed"] = typeof(MessageFailed),
        ["conversion_attributed"] = typeof(ConversionAttributed),
        ["message_withheld"] = typeof(MessageWithheld),
        ["control_group_converted"] = typeof(ControlGroupConverted),
        ["inbox_message_delivered"] = typeof(InboxMessageDelivered),
    };

    private static readonly IReadOnlyDictionary<string, Type> RuleTypes = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["rule_version_published"] = typeof(RuleVersionPublished),
        ["rule_paused"] = typeof(RulePaused),
        ["rule_resumed"] = typeof(RuleResumed),
        ["rule_archived"] = typeof(RuleArchived),
    };

    /// <summary>The stored (PascalCase) JSON form of events.</summary>
    public static readonly JsonSerializerOptions StoredForm = JourneysJson.Configure(new JsonSerializerOptions());

    /// <summary>The trail of the person <paramref name="contactId"/> belongs to, or null when the workspace has no such contact.</summary>
    public static async Task<AuditTrail?> LoadAsync(IQuerySession session, IDocumentStore store, Guid contactId, CancellationToken cancellation)
    {
        var profile = await ContactProfiles.LoadAsync(session, contactId, cancellation);
        IReadOnlyList<Guid> streams = profile is null ? [contactId] : ContactProfiles.StreamIds(profile);
        if (!streams.Contains(contactId)) streams = [.. streams, contactId];

        var events = new List<LoggedEvent>();
        foreach (var stream in streams)
        {
            foreach (var e in await session.Events.FetchStreamAsync(stream, token: cancellation))
                events.Add(new LoggedEvent(e.Sequence, e.Id, e.StreamId, e.Data, e));
        }
        if (events.Count == 0) return null;

        // The rules' own streams, read through the (tenant, stream, version) index: a scan by event type would read
        // the whole store for every explanation.
        var rules = (await session.Query<RuleState>().ToListAsync(cancellation)).ToDictionary(r => r.Name, StringComparer.Ordinal);
        var rows = await session.AdvancedSql.QueryAsync<string>(
            "select json_build_object('seq', seq_id, 'id', id, 'stream', stream_id, 'type', type, 'data', data)::text " +
            $"from {store.Options.Events.DatabaseSchemaName}.mt_events where tenant_id = ? and stream_id = any(?) and type = any(?) order by seq_id",
            cancellation, session.TenantId, rules.Values.Select(r => r.Id).ToArray(), RuleTypes.Keys.ToArray());
        var ruleEvents = rows.Select(row => Parse(row, RuleTypes)).ToList();
        return new AuditTrail(profile?.Id ?? contactId, events, ruleEvents, rules);
    }

    /// <summary>The contact stream a message's decisions are recorded on, if any.</summary>
    public static async Task<Guid?> ContactOfMessageAsync(IQuerySession session, IDocumentStore store, Guid messageId, CancellationToken cancellation)
    {
        // A scheduled message names its contact (a key lookup); only a message that never got that far is searched for.
        if (await session.LoadAsync<ScheduledMessage>(messageId, cancellation) is { } scheduled) return scheduled.ContactId;
        var rows = await session.AdvancedSql.QueryAsync<string>(
            $"select stream_id::text from {store.Options.Events.DatabaseSchemaName}.mt_events " +
            "where tenant_id = ? and type = any(?) and data->>'MessageId' = ? limit 1",
            cancellation, session.TenantId, DecisionTypes.Keys.ToArray(), messageId.ToString());
        return rows.Count == 0 ? null : Guid.Parse(rows[0]);
    }

    /// <summary>The decision events of every message a rule started (by its TriggerMatched or MessageScheduled), in log order.</summary>
    public static async Task<IReadOnlyList<LoggedEvent>> DecisionsOfRuleAsync(IQuerySession session, IDocumentStore store, string rule,
        CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var rows = await session.AdvancedSql.QueryAsync<string>(
            "select json_build_object('seq', seq_id, 'id', id, 'stream', stream_id, 'type', type, 'data', data)::text " +
            $"from {schema}.mt_events where tenant_id = ? and type = any(?) and data->>'MessageId' in " +
            $"(select data->>'MessageId' from {schema}.mt_events where tenant_id = ? and type in ('trigger_matched', 'message_scheduled') " +
            "and data->'Rule'->>'Name' = ?) order by seq_id",
            cancellation, session.TenantId, DecisionTypes.Keys.ToArray(), session.TenantId, rule);
        return rows.Select(row => Parse(row, DecisionTypes)).ToList();
    }

    private static LoggedEvent Parse(string row, IReadOnlyDictionary<string, Type> types)
    {
        using var json = JsonDocument.Parse(row);
        var root = json.RootElement;
        var data = root.GetProperty("data").Deserialize(types[root.GetProperty("type").GetString()!], StoredForm)!;
        return new LoggedEvent(root.GetProperty("seq").GetInt64(), root.GetProperty("id").GetGuid(), root.GetProperty("stream").GetGuid(), data);
    }
}
