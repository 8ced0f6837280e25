using EventSourcedJourneys.Domain.Messages;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourcedJourneys.Projections.Reports;

public enum AttributionModel
{
    LastTouch,
    FirstTouch,
    Linear,
}

/// <summary>
/// One line of the attribution report: what one trigger's messages on one channel are credited with, and the uplift over its
/// control group: <paramref name="Sent"/> messages sent in the range and how many of them converted (<paramref name="SentConverted"/>),
/// <paramref name="Withheld"/> messages withheld in the range and how many of those were followed by a conversion
/// (<paramref name="ControlConverted"/>); see <see cref="Reports.Uplift"/>.
/// </summary>
public sealed record AttributionReportLine(
    string Trigger,
    string Channel,
    decimal Conversions,
    decimal Revenue,
    long Sent,
    long SentConverted,
    long Withheld,
    long ControlConverted,
    decimal? TreatmentConversionRate,
    decimal? ControlConversionRate,
    decimal? Uplift,
    decimal? RelativeUplift,
    string? UpliftNote);

/// <summary>
/// The attribution report's read model: one row per (conversion, message credited with it), from
/// <see cref="ConversionAttributed"/>. The models divide each conversion among its rows when the report is read
/// (docs/reports.md), so all three come from the same rows.
/// </summary>
public static class AttributionReport
{
    public const string Name = "attribution";
    public const string TableName = ReportGenerations.Schema + ".attribution_credits";

    /// <summary>Credits and revenue are reported to this many decimal places (linear credit divides conversions).</summary>
    public const int Decimals = 6;

    public static readonly IReadOnlyDictionary<string, AttributionModel> ModelNames = new Dictionary<string, AttributionModel>(StringComparer.Ordinal)
    {
        ["last-touch"] = AttributionModel.LastTouch,
        ["first-touch"] = AttributionModel.FirstTouch,
        ["linear"] = AttributionModel.Linear,
    };

    public static Table Table()
    {
        var table = new Table(TableName);
        table.AddColumn("generation", "integer").AsPrimaryKey();
        table.AddColumn("tenant_id", "text").AsPrimaryKey();
        table.AddColumn("conversion_event_id", "uuid").AsPrimaryKey();
        table.AddColumn("message_id", "uuid").AsPrimaryKey();
        table.AddColumn("contact_id", "uuid").NotNull();
        table.AddColumn("trigger", "text").NotNull();
        table.AddColumn("trigger_version", "integer").NotNull();
        table.AddColumn("channel", "text").NotNull();
        table.AddColumn("sent_at", "timestamptz").NotNull();
        table.AddColumn("converted_at", "timestamptz").NotNull();
        table.AddColumn("revenue", "numeric");
        table.Indexes.Add(new IndexDefinition("ix_attribution_credits_converted") { Columns = ["generation", "tenant_id", "converted_at"] });
        return table;
    }

    /// <summary>The credits a batch of events records; a credit is recorded once however often its event is replayed.</summary>
    public sealed class Rows : IReportRows
    {
        private readonly SortedDictionary<(string Tenant, Guid Conversion, Guid Message), ConversionAttributed> _credits = new();

        public string ReadModel => Name;

        public bool IsEmpty => _credits.Count == 0;

        public void Add(string tenant, object data)
        {
            if (data is ConversionAttributed e) _credits.TryAdd((tenant, e.ConversionEvent.EventId, e.MessageId), e);
        }

        public (string Sql, object[] Parameters) Upsert(string generations)
        {
            var keys = _credits.Keys.ToArray();
            var credits = _credits.Values.ToArray();
            var sql =
                $"insert into {TableName} (generation, tenant_id, conversion_event_id, message_id, contact_id, trigger, trigger_version, channel, " +
                "sent_at, converted_at, revenue) " +
                $"select g.generation, u.* from {generations} g cross join unnest(?::text[], ?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::int[], " +
                "?::text[], ?::timestamptz[], ?::timestamptz[], ?::numeric[]) as u " +
                "on conflict (generation, tenant_id, conversion_event_id, message_id) do nothing";
            return (sql,
            [
                keys.Select(k => k.Tenant).ToArray(),
                keys.Select(k => k.Conversion).ToArray(),
                keys.Select(k => k.Message).ToArray(),
                credits.Select(c => c.ContactId).ToArray(),
                credits.Select(c => c.Rule.Name).ToArray(),
                credits.Select(c => c.Rule.Version).ToArray(),
                credits.Select(c => c.Channel?.Name() ?? "unknown").ToArray(),
                credits.Select(c => c.SentAt.ToDateTimeOffset()).ToArray(),
                credits.Select(c => c.ConversionEvent.OccurredAt.ToDateTimeOffset()).ToArray(),
                credits.Select(c => c.Revenue).ToArray(),
            ]);
        }
    }
}

public static class AttributionReportQuery
{
    /// <summary>
    /// Conversions whose goal event happened in [<paramref name="from"/>, <paramref name="to"/>), divided among the
    /// messages credited with each by <paramref name="model"/>, summed per trigger and channel (docs/reports.md); with the
    /// uplift of the messages sent or withheld in the same range over the control group. A trigger and channel with a
    /// control group has a line even without credited conversions.
    /// </summary>
    public static async Task<IReadOnlyList<AttributionReportLine>> ReadAsync(Marten.IDocumentStore store, string tenant, AttributionModel model,
        NodaTime.Instant? from, NodaTime.Instant? to, CancellationToken cancellation)
    {
        var credit = model switch
        {
            AttributionModel.LastTouch => "case when from_last = 1 then 1 else 0 end",
            AttributionModel.FirstTouch => "case when from_first = 1 then 1 else 0 end",
            _ => "1::numeric / touches",
        };
        const string inRange = "(@from::timestamptz is null or {0} >= @from) and (@to::timestamptz is null or {0} < @to)";
        var sent = "sent_at is not null and withheld_at is null and " + string.Format(System.Globalization.CultureInfo.InvariantCulture, inRange, "sent_at");
        var withheld = "withheld_at is not null and " + string.Format(System.Globalization.CultureInfo.InvariantCulture, inRange, "withheld_at");
        var sql =
            "with credits as (select trigger, channel, coalesce(revenue, 0) as revenue, " +
            "count(*) over (partition by conversion_event_id) as touches, " +
            "row_number() over (partition by conversion_event_id order by sent_at, message_id) as from_first, " +
            "row_number() over (partition by conversion_event_id order by sent_at desc, message_id desc) as from_last " +
            $"from {AttributionReport.TableName} where generation = {ReportGenerations.CurrentGenerationSql(AttributionReport.Name)} " +
            "and tenant_id = @tenant and (@from::timestamptz is null or converted_at >= @from) and (@to::timestamptz is null or converted_at < @to)), " +
            $"attributed as (select trigger, channel, round(sum({credit}), {AttributionReport.Decimals}) as conversions, " +
            $"round(sum(revenue * ({credit})), {AttributionReport.Decimals}) as revenue from credits group by trigger, channel), " +
            $"exposed as (select trigger, channel, count(*) filter (where {sent}) as sent, " +
            $"count(*) filter (where {sent} and converted_at is not null) as sent_converted, count(*) filter (where {withheld}) as withheld, " +
            $"count(*) filter (where {withheld} and converted_at is not null) as control_converted " +
            $"from {CampaignReport.TableName} where generation = {ReportGenerations.CurrentGenerationSql(CampaignReport.Name)} " +
            "and tenant_id = @tenant and trigger is not null group by trigger, channel) " +
            "select coalesce(a.trigger, e.trigger), coalesce(a.channel, e.channel), coalesce(a.conversions, 0), coalesce(a.revenue, 0), " +
            "coalesce(e.sent, 0), coalesce(e.sent_converted, 0), coalesce(e.withheld, 0), coalesce(e.control_converted, 0) " +
            "from attributed a full join (select * from exposed where withheld > 0) e on e.trigger = a.trigger and e.channel = a.channel " +
            "order by 1, 2";
        await using var connection = (Npgsql.NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.Add(new Npgsql.NpgsqlParameter("from", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)from?.ToDateTimeUtc() ?? DBNull.Value });
        command.Parameters.Add(new Npgsql.NpgsqlParameter("to", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)to?.ToDateTimeUtc() ?? DBNull.Value });
        var lines = new List<AttributionReportLine>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var (sentCount, sentConverted, withheldCount, controlConverted) = (reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7));
            var uplift = Uplift.Of(sentCount, sentConverted, withheldCount, controlConverted);
            lines.Add(new AttributionReportLine(reader.GetString(0), reader.GetString(1), reader.GetDecimal(2), reader.GetDecimal(3),
                sentCount, sentConverted, withheldCount, controlConverted,
                uplift.TreatmentConversionRate, uplift.ControlConversionRate, uplift.Difference, uplift.Relative, uplift.Note));
        }
        return lines;
    }
}
