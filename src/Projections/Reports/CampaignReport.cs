using System.Text.Json;
using EventSourcedJourneys.Domain.Messages;
using NodaTime;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourcedJourneys.Projections.Reports;

/// <summary>One line of the campaign report: the messages of one trigger version, step, channel and variant. <paramref name="Converted"/>
/// and <paramref name="Revenue"/> are the treatment's (messages sent); <paramref name="Withheld"/>, <paramref name="ControlConverted"/> and
/// <paramref name="ControlRevenue"/> the control group's; the last five compare them (<see cref="Reports.Uplift"/>).</summary>
public sealed record CampaignReportLine(
    string Trigger,
    int Version,
    int Step,
    string Channel,
    string Variant,
    long Scheduled,
    long Sent,
    long Cancelled,
    IReadOnlyDictionary<string, long> Suppressed,
    long Failed,
    long Delivered,
    long Opened,
    long Clicked,
    long Bounced,
    long Unsubscribed,
    long Converted,
    decimal Revenue,
    long Withheld,
    long ControlConverted,
    decimal ControlRevenue,
    decimal? TreatmentConversionRate,
    decimal? ControlConversionRate,
    decimal? Uplift,
    decimal? RelativeUplift,
    string? UpliftNote);

/// <summary>
/// The campaign report's read model: one row per message of a workspace, with its trigger, step, channel and variant and
/// what became of it (docs/reports.md). The report is a grouping of these rows; the rows are what a rebuild recomputes.
/// </summary>
public static class CampaignReport
{
    public const string Name = "campaigns";
    public const string TableName = ReportGenerations.Schema + ".campaign_messages";

    /// <summary>Until A/B tests exist, every message is in the variant "default"; a control group is counted beside it
    /// (<c>withheld_at</c>), not as a variant, because a message is held out only at its send decision.</summary>
    public const string DefaultVariant = "default";

    /// <summary>Triggers send one message each; journeys with several steps come later.</summary>
    public const int SingleStep = 1;

    public static readonly IReadOnlyList<string> SuppressionReasons =
        Enum.GetValues<SuppressionReason>().Select(ReasonName).ToArray();

    public static string ReasonName(SuppressionReason reason) => JsonNamingPolicy.CamelCase.ConvertName(reason.ToString());

    public static Table Table()
    {
        var table = new Table(TableName);
        table.AddColumn("generation", "integer").AsPrimaryKey();
        table.AddColumn("tenant_id", "text").AsPrimaryKey();
        table.AddColumn("message_id", "uuid").AsPrimaryKey();
        table.AddColumn("contact_id", "uuid");
        table.AddColumn("trigger", "text");
        table.AddColumn("trigger_version", "integer");
        table.AddColumn("step", "integer");
        table.AddColumn("channel", "text");
        table.AddColumn("variant", "text");
        table.AddColumn("entered_at", "timestamptz");
        table.AddColumn("sent_at", "timestamptz");
        table.AddColumn("withheld_at", "timestamptz");
        table.AddColumn("cancelled", "boolean").NotNull().DefaultValueByExpression("false");
        table.AddColumn("suppressed_reason", "text");
        table.AddColumn("failed", "boolean").NotNull().DefaultValueByExpression("false");
        table.AddColumn("delivered_at", "timestamptz");
        table.AddColumn("opened_at", "timestamptz");
        table.AddColumn("clicked_at", "timestamptz");
        table.AddColumn("bounced_at", "timestamptz");
        table.AddColumn("unsubscribed_at", "timestamptz");
        table.AddColumn("converted_at", "timestamptz");
        table.AddColumn("revenue", "numeric");
        table.Indexes.Add(new IndexDefinition("ix_campaign_messages_entered") { Columns = ["generation", "tenant_id", "entered_at"] });
        return table;
    }

    /// <summary>What one batch of events says about each message; merged per message before it is written.</summary>
    public sealed class Rows : IReportRows
    {
        private readonly Dictionary<(string Tenant, Guid Message), Row> _rows = [];

        public string ReadModel => Name;

        public bool IsEmpty => _rows.Count == 0;

        public void Add(string tenant, object data)
        {
            switch (data)
            {
                case MessageScheduled e:
                    Merge(tenant, e.MessageId, new Row
                    {
                        ContactId = e.ContactId, Trigger = e.Rule?.Name, Version = e.Rule?.Version, Channel = e.Channel.Name(),
                        EnteredAt = e.ScheduledAt,
                    });
                    break;
                case MessageSent e:
                    Merge(tenant, e.MessageId, new Row
                    {
                        ContactId = e.ContactId, Trigger = e.RuleVersion?.Name, Version = e.RuleVersion?.Version, Channel = e.Channel.Name(),
                        SentAt = e.SentAt,
                    });
                    break;
                case MessageWithheld e:
                    Merge(tenant, e.MessageId, new Row
                    {
                        ContactId = e.ContactId, Trigger = e.Rule.Name, Version = e.Rule.Version, Channel = e.Channel.Name(), WithheldAt = e.DecidedAt,
                    });
                    break;
                case ControlGroupConverted e:
                    Merge(tenant, e.MessageId, new Row
                    {
                        ContactId = e.ContactId, Trigger = e.Rule.Name, Version = e.Rule.Version, ConvertedAt = e.ConversionEvent.OccurredAt,
                        Revenue = e.Revenue,
                    });
                    break;
                case MessageCancelled e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, Cancelled = true });
                    break;
                case MessageSuppressed e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, SuppressedReason = ReasonName(e.Reason) });
                    break;
                case MessageFailed { Permanent: true } e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, Failed = true });
                    break;
                case MessageDelivered e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, DeliveredAt = e.At });
                    break;
                case InboxMessageDelivered e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, DeliveredAt = e.DeliveredAt });
                    break;
                case MessageOpened e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, OpenedAt = e.At });
                    break;
                case InboxMessageRead e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, OpenedAt = e.ReadAt });
                    break;
                case MessageClicked e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, ClickedAt = e.At });
                    break;
                case MessageBounced e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, BouncedAt = e.At });
                    break;
                case MessageUnsubscribed e:
                    Merge(tenant, e.MessageId, new Row { ContactId = e.ContactId, UnsubscribedAt = e.At });
                    break;
                case ConversionAttributed e:
                    Merge(tenant, e.MessageId, new Row
                    {
                        ContactId = e.ContactId, Trigger = e.Rule.Name, Version = e.Rule.Version, ConvertedAt = e.ConversionEvent.OccurredAt,
                        Revenue = e.Revenue,
                    });
                    break;
            }
        }

        private void Merge(string tenant, Guid message, Row row) =>
            _rows[(tenant, message)] = _rows.TryGetValue((tenant, message), out var existing) ? existing.With(row) : row;

        public (string Sql, object[] Parameters) Upsert(string generations)
        {
            var keys = _rows.Keys.OrderBy(k => k.Tenant, StringComparer.Ordinal).ThenBy(k => k.Message).ToArray();
            var rows = keys.Select(k => _rows[k]).ToArray();
            var sql =
                $"insert into {TableName} as t (generation, tenant_id, message_id, contact_id, trigger, trigger_version, step, channel, variant, " +
                "entered_at, sent_at, withheld_at, cancelled, suppressed_reason, failed, delivered_at, opened_at, clicked_at, bounced_at, unsubscribed_at, " +
                "converted_at, revenue) " +
                $"select g.generation, u.* from {generations} g cross join unnest(?::text[], ?::uuid[], ?::uuid[], ?::text[], ?::int[], ?::int[], " +
                "?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::boolean[], ?::text[], ?::boolean[], ?::timestamptz[], " +
                "?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::numeric[]) as u " +
                "on conflict (generation, tenant_id, message_id) do update set " +
                "contact_id = coalesce(t.contact_id, excluded.contact_id), trigger = coalesce(t.trigger, excluded.trigger), " +
                "trigger_version = coalesce(t.trigger_version, excluded.trigger_version), step = coalesce(t.step, excluded.step), " +
                "channel = coalesce(t.channel, excluded.channel), variant = coalesce(t.variant, excluded.variant), " +
                "entered_at = least(t.entered_at, excluded.entered_at), sent_at = least(t.sent_at, excluded.sent_at), " +
                "withheld_at = least(t.withheld_at, excluded.withheld_at), " +
                "cancelled = t.cancelled or excluded.cancelled, suppressed_reason = least(t.suppressed_reason collate \"C\", excluded.suppressed_reason collate \"C\"), " +
                "failed = t.failed or excluded.failed, delivered_at = least(t.delivered_at, excluded.delivered_at), " +
                "opened_at = least(t.opened_at, excluded.opened_at), clicked_at = least(t.clicked_at, excluded.clicked_at), " +
                "bounced_at = least(t.bounced_at, excluded.bounced_at), unsubscribed_at = least(t.unsubscribed_at, excluded.unsubscribed_at), " +
                "revenue = case when excluded.converted_at is not null and (t.converted_at is null or excluded.converted_at < t.converted_at) " +
                "then excluded.revenue else t.revenue end, " +
                "converted_at = least(t.converted_at, excluded.converted_at)";
            return (sql,
            [
                keys.Select(k => k.Tenant).ToArray(),
                keys.Select(k => k.Message).ToArray(),
                rows.Select(r => r.ContactId).ToArray(),
                rows.Select(r => r.Trigger).ToArray(),
                rows.Select(r => r.Version).ToArray(),
                rows.Select(r => r.Trigger is null ? (int?)null : SingleStep).ToArray(),
                rows.Select(r => r.Channel).ToArray(),
                rows.Select(r => r.Trigger is null ? null : DefaultVariant).ToArray(),
                rows.Select(r => Time(r.EnteredAt)).ToArray(),
                rows.Select(r => Time(r.SentAt)).ToArray(),
                rows.Select(r => Time(r.WithheldAt)).ToArray(),
                rows.Select(r => r.Cancelled).ToArray(),
                rows.Select(r => r.SuppressedReason).ToArray(),
                rows.Select(r => r.Failed).ToArray(),
                rows.Select(r => Time(r.DeliveredAt)).ToArray(),
                rows.Select(r => Time(r.OpenedAt)).ToArray(),
                rows.Select(r => Time(r.ClickedAt)).ToArray(),
                rows.Select(r => Time(r.BouncedAt)).ToArray(),
                rows.Select(r => Time(r.UnsubscribedAt)).ToArray(),
                rows.Select(r => Time(r.ConvertedAt)).ToArray(),
                rows.Select(r => r.Revenue).ToArray(),
            ]);
        }

        private static DateTimeOffset? Time(Instant? instant) => instant?.ToDateTimeOffset();
    }

    /// <summary>A message's row, or the part of it one event knows; <see cref="With"/> merges like the upsert does.</summary>
    private sealed record Row
    {
        public Guid? ContactId { get; init; }
        public string? Trigger { get; init; }
        public int? Version { get; init; }
        public string? Channel { get; init; }
        public Instant? EnteredAt { get; init; }
        public Instant? SentAt { get; init; }
        public Instant? WithheldAt { get; init; }
        public bool Cancelled { get; init; }
        public string? SuppressedReason { get; init; }
        public bool Failed { get; init; }
        public Instant? DeliveredAt { get; init; }
        public Instant? OpenedAt { get; init; }
        public Instant? ClickedAt { get; init; }
        public Instant? BouncedAt { get; init; }
        public Instant? UnsubscribedAt { get; init; }
        public Instant? ConvertedAt { get; init; }
        public decimal? Revenue { get; init; }

        public Row With(Row next) => new()
        {
            ContactId = ContactId ?? next.ContactId,
            Trigger = Trigger ?? next.Trigger,
            Version = Version ?? next.Version,
            Channel = Channel ?? next.Channel,
            EnteredAt = Earliest(EnteredAt, next.EnteredAt),
            SentAt = Earliest(SentAt, next.SentAt),
            WithheldAt = Earliest(WithheldAt, next.WithheldAt),
            Cancelled = Cancelled || next.Cancelled,
            SuppressedReason = SuppressedReason is null ? next.SuppressedReason
                : next.SuppressedReason is null ? SuppressedReason
                : string.CompareOrdinal(SuppressedReason, next.SuppressedReason) <= 0 ? SuppressedReason : next.SuppressedReason,
            Failed = Failed || next.Failed,
            DeliveredAt = Earliest(DeliveredAt, next.DeliveredAt),
            OpenedAt = Earliest(OpenedAt, next.OpenedAt),
            ClickedAt = Earliest(ClickedAt, next.ClickedAt),
            BouncedAt = Earliest(BouncedAt, next.BouncedAt),
            UnsubscribedAt = Earliest(UnsubscribedAt, next.UnsubscribedAt),
            ConvertedAt = Earliest(ConvertedAt, next.ConvertedAt),
            Revenue = next.ConvertedAt is { } at && (ConvertedAt is null || at < ConvertedAt) ? next.Revenue : Revenue,
        };

        private static Instant? Earliest(Instant? a, Instant? b) => a is null ? b : b is null ? a : a < b ? a : b;
    }
}

public static class CampaignReportQuery
{
    /// <summary>
    /// The report of workspace <paramref name="tenant"/>: messages that entered a trigger (were scheduled) in
    /// [<paramref name="from"/>, <paramref name="to"/>), grouped by trigger version, step, channel and variant.
    /// </summary>
    public static async Task<IReadOnlyList<CampaignReportLine>> ReadAsync(Marten.IDocumentStore store, string tenant, Instant? from, Instant? to,
        string? trigger, CancellationToken cancellation)
    {
        var reasons = CampaignReport.SuppressionReasons;
        var sql =
            "select trigger, trigger_version, step, channel, variant, count(*), count(sent_at), count(*) filter (where cancelled), " +
            string.Concat(reasons.Select((_, i) => $"count(*) filter (where suppressed_reason = @r{i}), ")) +
            "count(*) filter (where failed), count(delivered_at), count(opened_at), count(clicked_at), count(bounced_at), count(unsubscribed_at), " +
            "count(converted_at) filter (where withheld_at is null), " +
            "coalesce(sum(revenue) filter (where converted_at is not null and withheld_at is null), 0), count(withheld_at), " +
            "count(converted_at) filter (where withheld_at is not null), " +
            "coalesce(sum(revenue) filter (where converted_at is not null and withheld_at is not null), 0) " +
            $"from {CampaignReport.TableName} where generation = {ReportGenerations.CurrentGenerationSql(CampaignReport.Name)} " +
            "and tenant_id = @tenant and trigger is not null and entered_at is not null " +
            "and (@from::timestamptz is null or entered_at >= @from) and (@to::timestamptz is null or entered_at < @to) " +
            "and (@trigger::text is null or trigger = @trigger) " +
            "group by trigger, trigger_version, step, channel, variant order by trigger, trigger_version, step, channel, variant";
        await using var connection = (Npgsql.NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.Add(new Npgsql.NpgsqlParameter("from", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)from?.ToDateTimeUtc() ?? DBNull.Value });
        command.Parameters.Add(new Npgsql.NpgsqlParameter("to", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)to?.ToDateTimeUtc() ?? DBNull.Value });
        command.Parameters.Add(new Npgsql.NpgsqlParameter("trigger", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)trigger ?? DBNull.Value });
        for (var i = 0; i < reasons.Count; i++) command.Parameters.AddWithValue($"r{i}", reasons[i]);

        var lines = new List<CampaignReportLine>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var column = 8;
            var suppressed = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var reason in reasons) suppressed[reason] = reader.GetInt64(column++);
            var (failed, delivered, opened, clicked, bounced, unsubscribed) = (reader.GetInt64(column++), reader.GetInt64(column++),
                reader.GetInt64(column++), reader.GetInt64(column++), reader.GetInt64(column++), reader.GetInt64(column++));
            var (sent, converted, revenue) = (reader.GetInt64(6), reader.GetInt64(column++), reader.GetDecimal(column++));
            var (withheld, controlConverted, controlRevenue) = (reader.GetInt64(column++), reader.GetInt64(column++), reader.GetDecimal(column));
            var uplift = Uplift.Of(sent, converted, withheld, controlConverted);
            lines.Add(new CampaignReportLine(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4),
                reader.GetInt64(5), sent, reader.GetInt64(7), suppressed, failed, delivered, opened, clicked, bounced, unsubscribed,
                converted, revenue, withheld, controlConverted, controlRevenue,
                uplift.TreatmentConversionRate, uplift.ControlConversionRate, uplift.Difference, uplift.Relative, uplift.Note));
        }
        return lines;
    }

    /// <summary>Whether the workspace's campaign read model has any message of <paramref name="trigger"/>, at any time.</summary>
    public static async Task<bool> KnowsTriggerAsync(Marten.IDocumentStore store, string tenant, string trigger, CancellationToken cancellation)
    {
        await using var connection = (Npgsql.NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new Npgsql.NpgsqlCommand(
            $"select exists (select 1 from {CampaignReport.TableName} where generation = {ReportGenerations.CurrentGenerationSql(CampaignReport.Name)} " +
            "and tenant_id = @tenant and trigger = @trigger)", connection);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("trigger", trigger);
        return (bool)(await command.ExecuteScalarAsync(cancellation))!;
    }
}
