using System.Globalization;
using System.Text.Json;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Projections.Reports;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Tests.Reports;

/// <summary>
/// A seeded dataset of a thousand contacts, their messages, receipts and conversions — with messages withheld from the
/// control groups of two triggers and their conversions — appended as the engine appends them; the campaign report (with
/// its uplift) and the three attribution models (with theirs) must equal straightforward SQL over mt_events, and the read
/// models rebuilt from scratch must equal the live ones.
/// </summary>
public sealed class when_reports_are_checked_against_the_raw_events(AppFixture app) : IntegrationTest(app)
{
    private const int Contacts = 1000;
    private static readonly string[] Triggers = ["welcome", "cart_reminder", "winback"];
    private static readonly Channel[] ChannelsUsed = [Channel.Email, Channel.Sms, Channel.Push, Channel.InApp];
    private static readonly Instant Origin = Instant.FromUtc(2026, 10, 1, 0, 0);
    private static readonly Instant FarFuture = Instant.FromUtc(2030, 1, 1, 0, 0); // due dates the test never reaches

    private const string RangeFrom = "2026-10-11T00:00:00Z";
    private const string RangeTo = "2026-10-21T00:00:00Z";

    private async Task GenerateAsync()
    {
        var random = new Random(20261125);
        var store = App.Host.Services.GetRequiredService<IDocumentStore>();
        for (var batch = 0; batch < Contacts; batch += 100)
        {
            await using var session = store.LightweightSession("acme");
            for (var c = batch; c < batch + 100; c++)
            {
                var contact = Guid.CreateVersion7();
                var events = new List<object>();
                var sent = new List<(Guid Id, RuleVersionRef Rule, Channel Channel, Instant At, bool Converted, bool Withheld)>();
                var messages = random.Next(1, 4);
                for (var m = 0; m < messages; m++)
                {
                    var id = Guid.CreateVersion7();
                    var rule = new RuleVersionRef(Triggers[random.Next(Triggers.Length)], random.Next(1, 3), "hash");
                    var channel = ChannelsUsed[random.Next(ChannelsUsed.Length)];
                    var at = Origin + Duration.FromMinutes(random.Next(0, 30 * 24 * 60));
                    events.Add(new MessageScheduled(contact, id, channel, "template", at, FarFuture, rule));
                    var outcome = random.Next(10);
                    if (outcome == 0) { events.Add(new MessageCancelled(contact, id, new EventRef(Guid.NewGuid(), 0, "order_completed", at), at)); continue; }
                    if (outcome == 1)
                    {
                        var reason = Enum.GetValues<SuppressionReason>()[random.Next(Enum.GetValues<SuppressionReason>().Length)];
                        events.Add(new MessageSuppressed(contact, id, reason, "generated", new Dictionary<string, string>(), at));
                        continue;
                    }
                    if (outcome == 2)
                    {
                        events.Add(new MessageFailed(contact, id, channel, "timeout", 1, Permanent: false, at));
                        events.Add(new MessageFailed(contact, id, channel, "rejected", 2, Permanent: true, at + Duration.FromMinutes(1)));
                        continue;
                    }
                    if (outcome is 3 or 4 && rule.Name != "welcome") // welcome has no control group
                    {
                        var withheldAt = at + Duration.FromMinutes(random.Next(0, 120));
                        events.Add(new MessageWithheld(contact, id, rule, channel, "generated", new Dictionary<string, string> { ["bucket"] = "1" }, withheldAt));
                        sent.Add((id, rule, channel, withheldAt, false, true));
                        continue;
                    }
                    var sentAt = at + Duration.FromMinutes(random.Next(0, 120));
                    events.Add(new MessageSent(contact, id, channel, $"provider-{id:N}", 1, sentAt, rule.Name, false, rule));
                    sent.Add((id, rule, channel, sentAt, false, false));
                    if (random.Next(4) > 0) events.Add(new MessageDelivered(contact, id, $"r-{Guid.NewGuid():N}", sentAt + Duration.FromMinutes(1)));
                    if (random.Next(3) == 0) events.Add(new MessageBounced(contact, id, "mailbox full", $"r-{Guid.NewGuid():N}", sentAt + Duration.FromMinutes(1)));
                    for (var opens = random.Next(0, 3); opens > 0; opens--) // opened twice counts once
                        events.Add(new MessageOpened(contact, id, $"r-{Guid.NewGuid():N}", sentAt + Duration.FromMinutes(random.Next(2, 600))));
                    if (random.Next(4) == 0) events.Add(new MessageClicked(contact, id, "https://shop.example", $"r-{Guid.NewGuid():N}", sentAt + Duration.FromHours(11)));
                    if (random.Next(20) == 0) events.Add(new MessageUnsubscribed(contact, id, channel, $"r-{Guid.NewGuid():N}", sentAt + Duration.FromHours(12)));
                }
                // Orders, credited as the engine credits them: each sent message at most once, within its 3-day goal window.
                for (var orders = random.Next(0, 3); orders > 0; orders--)
                {
                    var at = Origin + Duration.FromMinutes(random.Next(0, 33 * 24 * 60));
                    var total = random.Next(1, 50000) / 100m;
                    var orderId = Guid.NewGuid();
                    events.Add(new EventSourcedJourneys.Domain.Contacts.ContactTracked(contact, $"order-{orderId:N}", "order_completed",
                        JsonSerializer.SerializeToElement(new { total }), JsonSerializer.SerializeToElement(new { }), at, at, null, $"anon-{c}"));
                    var reference = new EventRef(orderId, 0, "order_completed", at);
                    for (var i = 0; i < sent.Count; i++)
                    {
                        var s = sent[i];
                        if (s.Converted || at <= s.At || at > s.At + Duration.FromDays(3)) continue;
                        var revenue = random.Next(10) == 0 ? (decimal?)null : total;
                        events.Add(s.Withheld
                            ? new ControlGroupConverted(contact, s.Id, s.Rule, reference, s.At, at, s.Channel, revenue)
                            : new ConversionAttributed(contact, s.Id, s.Rule, reference, s.At, at, s.Channel, revenue));
                        sent[i] = s with { Converted = true };
                    }
                }
                session.Events.Append(contact, events.ToArray());
            }
            await session.SaveChangesAsync();
        }
    }

    [Fact]
    public async Task the_campaign_report_equals_a_plain_query_of_the_events()
    {
        await GenerateAsync();

        var all = await CampaignSqlAsync(null, null);
        Assert.Contains(all, l => l.StartsWith("winback|", StringComparison.Ordinal) && !l.EndsWith("|null|null|null|null", StringComparison.Ordinal));
        Assert.Contains(all, l => l.StartsWith("welcome|", StringComparison.Ordinal) && l.EndsWith("|null|null", StringComparison.Ordinal));
        Assert.Equal(all, CampaignLines(await App.SendAsync(HttpMethod.Get, "/reports/campaigns", null, 200)));
        Assert.Equal(await CampaignSqlAsync(RangeFrom, RangeTo),
            CampaignLines(await App.SendAsync(HttpMethod.Get, $"/reports/campaigns?from={RangeFrom}&to={RangeTo}", null, 200)));
        Assert.Equal((await CampaignSqlAsync(null, null)).Where(l => l.StartsWith("winback|", StringComparison.Ordinal)),
            CampaignLines(await App.SendAsync(HttpMethod.Get, "/reports/campaigns/winback", null, 200)));
    }

    [Theory]
    [InlineData("last-touch")]
    [InlineData("first-touch")]
    [InlineData("linear")]
    public async Task each_attribution_model_equals_a_plain_query_of_the_events(string model)
    {
        await GenerateAsync();

        var all = await AttributionSqlAsync(model, null, null);
        Assert.NotEmpty(all);
        Assert.Contains(all, l => l.StartsWith("winback|", StringComparison.Ordinal) && !l.EndsWith("|null", StringComparison.Ordinal));
        Assert.All(all.Where(l => l.StartsWith("welcome|", StringComparison.Ordinal)), l => Assert.EndsWith("|0|0|null", l));
        Assert.Equal(all, AttributionLines(await App.SendAsync(HttpMethod.Get, $"/reports/attribution?model={model}", null, 200)));
        Assert.Equal(await AttributionSqlAsync(model, RangeFrom, RangeTo),
            AttributionLines(await App.SendAsync(HttpMethod.Get, $"/reports/attribution?model={model}&from={RangeFrom}&to={RangeTo}", null, 200)));
    }

    [Fact]
    public async Task the_read_models_rebuilt_from_scratch_equal_the_live_ones_and_reads_switch_to_them()
    {
        await GenerateAsync();
        var liveRows = await RowsAsync();
        var liveCampaigns = (await App.SendAsync(HttpMethod.Get, "/reports/campaigns", null, 200)).GetProperty("lines").ToString();
        var liveAttribution = (await App.SendAsync(HttpMethod.Get, "/reports/attribution?model=linear", null, 200)).GetProperty("lines").ToString();

        var rebuilds = App.Host.Services.GetServices<IRebuildableProjection>().Where(p => p.Name is "campaigns" or "attribution").ToList();
        Assert.Equal(["attribution", "campaigns"], rebuilds.Select(r => r.Name).Order());
        var progress = new List<RebuildProgress>();
        foreach (var rebuild in rebuilds) await rebuild.RebuildAsync(new SynchronousProgress(progress), CancellationToken.None);

        Assert.Equal(liveRows, await RowsAsync());
        Assert.Equal(liveCampaigns, (await App.SendAsync(HttpMethod.Get, "/reports/campaigns", null, 200)).GetProperty("lines").ToString());
        Assert.Equal(liveAttribution, (await App.SendAsync(HttpMethod.Get, "/reports/attribution?model=linear", null, 200)).GetProperty("lines").ToString());
        Assert.Equal(["attribution|2|", "campaigns|2|"], await QueryAsync($"select name || '|' || current || '|' || coalesce(building::text, '') from {ReportGenerations.TableName} order by name"));
        Assert.Equal(0, await CountAsync($"select count(*) from {CampaignReport.TableName} where generation <> 2"));
        Assert.All(progress, p => Assert.True(p.Done <= p.Total));
        Assert.Contains(progress, p => p.Done == p.Total && p.Total > 0);
    }

    private sealed class SynchronousProgress(List<RebuildProgress> seen) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => seen.Add(value);
    }

    // ---- the independent queries, written from docs/reports.md over mt_events only ----------------------------------

    private Task<List<string>> CampaignSqlAsync(string? from, string? to)
    {
        var reasons = string.Join(" || ',' || ", CampaignReport.SuppressionReasons.Select(r => $"'{r}=' || count(*) filter (where reason = '{r}')"));
        return QueryAsync(
            "with ev as (select (data->>'MessageId')::uuid as message, type, data from journeys.mt_events where tenant_id = 'acme' " +
            "  and (type like 'message%' or type like 'inbox_message%' or type in ('conversion_attributed', 'control_group_converted'))), " +
            "m as (select message, min(data->'Rule'->>'Name') filter (where type = 'message_scheduled') as trigger, " +
            "  min((data->'Rule'->>'Version')::int) filter (where type = 'message_scheduled') as version, " +
            "  min(data->>'Channel') filter (where type = 'message_scheduled') as channel, " +
            "  min((data->>'ScheduledAt')::timestamptz) filter (where type = 'message_scheduled') as entered, " +
            "  bool_or(type = 'message_sent') as sent, bool_or(type = 'message_cancelled') as cancelled, " +
            "  min(data->>'Reason') filter (where type = 'message_suppressed') as reason, " +
            "  bool_or(type = 'message_failed' and (data->>'Permanent')::boolean) as failed, " +
            "  bool_or(type in ('message_delivered', 'inbox_message_delivered')) as delivered, bool_or(type in ('message_opened', 'inbox_message_read')) as opened, " +
            "  bool_or(type = 'message_clicked') as clicked, bool_or(type = 'message_bounced') as bounced, bool_or(type = 'message_unsubscribed') as unsubscribed, " +
            "  bool_or(type = 'conversion_attributed') as converted, sum((data->>'Revenue')::numeric) filter (where type = 'conversion_attributed') as revenue, " +
            "  bool_or(type = 'message_withheld') as withheld, bool_or(type = 'control_group_converted') as control_converted, " +
            "  sum((data->>'Revenue')::numeric) filter (where type = 'control_group_converted') as control_revenue " +
            "  from ev group by message), " +
            "g as (select trigger, version, channel, count(*) as scheduled, count(*) filter (where sent) as sent, count(*) filter (where cancelled) as cancelled, " +
            $"  {reasons} as suppressed, count(*) filter (where failed) as failed, count(*) filter (where delivered) as delivered, " +
            "  count(*) filter (where opened) as opened, count(*) filter (where clicked) as clicked, count(*) filter (where bounced) as bounced, " +
            "  count(*) filter (where unsubscribed) as unsubscribed, count(*) filter (where converted) as converted, coalesce(sum(revenue), 0) as revenue, " +
            "  count(*) filter (where withheld) as withheld, count(*) filter (where control_converted) as control_converted, " +
            "  coalesce(sum(control_revenue), 0) as control_revenue " +
            "  from m where trigger is not null" + Range("entered", from, to) + " group by trigger, version, channel) " +
            "select trigger || '|' || version || '|1|' || channel || '|default|' || scheduled || '|' || sent || '|' || cancelled || '|' || suppressed " +
            " || '|' || failed || '|' || delivered || '|' || opened || '|' || clicked || '|' || bounced || '|' || unsubscribed || '|' || converted " +
            " || '|' || revenue || '|' || withheld || '|' || control_converted || '|' || control_revenue || '|' || " + UpliftSql("sent", "converted", "withheld", "control_converted") +
            " from g order by trigger, version, channel");
    }

    private static List<string> CampaignLines(JsonElement report) =>
        report.GetProperty("lines").EnumerateArray().Select(l =>
            $"{l.GetProperty("trigger").GetString()}|{l.GetProperty("version")}|{l.GetProperty("step")}|{l.GetProperty("channel").GetString()}|" +
            $"{l.GetProperty("variant").GetString()}|{l.GetProperty("scheduled")}|{l.GetProperty("sent")}|{l.GetProperty("cancelled")}|" +
            string.Join(",", l.GetProperty("suppressed").EnumerateObject().Select(r => $"{r.Name}={r.Value}")) +
            $"|{l.GetProperty("failed")}|{l.GetProperty("delivered")}|{l.GetProperty("opened")}|{l.GetProperty("clicked")}|{l.GetProperty("bounced")}|" +
            $"{l.GetProperty("unsubscribed")}|{l.GetProperty("converted")}|{l.GetProperty("revenue").GetDecimal().ToString(CultureInfo.InvariantCulture)}|" +
            $"{l.GetProperty("withheld")}|{l.GetProperty("controlConverted")}|{l.GetProperty("controlRevenue").GetDecimal().ToString(CultureInfo.InvariantCulture)}|" +
            $"{Rate(l, "treatmentConversionRate")}|{Rate(l, "controlConversionRate")}|{Rate(l, "uplift")}|{Rate(l, "relativeUplift")}").ToList();

    private static string Rate(JsonElement line, string property) =>
        line.GetProperty(property) is { ValueKind: JsonValueKind.Number } number ? number.GetDecimal().ToString("0.000000", CultureInfo.InvariantCulture) : "null";

    /// <summary>docs/reports.md's formula in SQL: rates, their difference and the difference relative to the control's rate,
    /// each rounded to 6 places (halves away from zero), or null where a denominator is zero.</summary>
    private static string UpliftSql(string sent, string converted, string withheld, string controlConverted)
    {
        var t = $"({converted}::numeric / nullif({sent}, 0))";
        var c = $"({controlConverted}::numeric / nullif({withheld}, 0))";
        return $"coalesce(round({t}, 6)::text, 'null') || '|' || coalesce(round({c}, 6)::text, 'null') || '|' || " +
               $"coalesce(round({t} - {c}, 6)::text, 'null') || '|' || coalesce(round(({t} - {c}) / nullif({c}, 0), 6)::text, 'null')";
    }

    private Task<List<string>> AttributionSqlAsync(string model, string? from, string? to)
    {
        var credit = model switch
        {
            "last-touch" => "case when (c.conversion, c.message) in (select conversion, message from lasts) then 1 else 0 end",
            "first-touch" => "case when (c.conversion, c.message) in (select conversion, message from firsts) then 1 else 0 end",
            _ => "1::numeric / (select count(*) from credits c2 where c2.conversion = c.conversion)",
        };
        return QueryAsync(
            "with credits as (select distinct on (conversion, message) (data->'ConversionEvent'->>'EventId')::uuid as conversion, " +
            "  (data->>'MessageId')::uuid as message, data->'Rule'->>'Name' as trigger, data->>'Channel' as channel, (data->>'SentAt')::timestamptz as sent, " +
            "  coalesce((data->>'Revenue')::numeric, 0) as revenue from journeys.mt_events where tenant_id = 'acme' and type = 'conversion_attributed'" +
            Range("(data->'ConversionEvent'->>'OccurredAt')::timestamptz", from, to) + " order by conversion, message), " +
            "firsts as (select distinct on (conversion) conversion, message from credits order by conversion, sent, message), " +
            "lasts as (select distinct on (conversion) conversion, message from credits order by conversion, sent desc, message desc), " +
            $"a as (select c.trigger, c.channel, round(sum({credit}), 6) as conversions, round(sum(c.revenue * ({credit})), 6) as revenue " +
            "  from credits c group by c.trigger, c.channel), " +
            // Exposures: each message of a trigger that was sent or withheld in the range, and whether a conversion followed it.
            "ev as (select (data->>'MessageId')::uuid as message, type, data from journeys.mt_events where tenant_id = 'acme' " +
            "  and type in ('message_scheduled', 'message_sent', 'message_withheld', 'conversion_attributed', 'control_group_converted')), " +
            "x as (select message, min(data->'Rule'->>'Name') filter (where type = 'message_scheduled') as trigger, " +
            "  min(data->>'Channel') filter (where type = 'message_scheduled') as channel, " +
            "  min((data->>'SentAt')::timestamptz) filter (where type = 'message_sent') as sent, " +
            "  min((data->>'DecidedAt')::timestamptz) filter (where type = 'message_withheld') as withheld, " +
            "  bool_or(type in ('conversion_attributed', 'control_group_converted')) as converted from ev group by message), " +
            "e as (select trigger, channel, " +
            "  count(*) filter (where sent is not null" + Range("sent", from, to) + ") as sent, " +
            "  count(*) filter (where converted and sent is not null" + Range("sent", from, to) + ") as sent_converted, " +
            "  count(*) filter (where withheld is not null" + Range("withheld", from, to) + ") as withheld, " +
            "  count(*) filter (where converted and withheld is not null" + Range("withheld", from, to) + ") as control_converted " +
            "  from x where trigger is not null group by trigger, channel) " +
            "select coalesce(a.trigger, e.trigger) || '|' || coalesce(a.channel, e.channel) || '|' || coalesce(a.conversions, 0.000000) || '|' || " +
            "  coalesce(a.revenue, 0.000000) || '|' || coalesce(e.sent, 0) || '|' || coalesce(e.sent_converted, 0) || '|' || coalesce(e.withheld, 0) || '|' || " +
            "  coalesce(e.control_converted, 0) || '|' || coalesce(round(e.sent_converted::numeric / nullif(e.sent, 0) - e.control_converted::numeric / nullif(e.withheld, 0), 6)::text, 'null') " +
            "from a full join (select * from e where withheld > 0) e on e.trigger = a.trigger and e.channel = a.channel " +
            "order by coalesce(a.trigger, e.trigger), coalesce(a.channel, e.channel)");
    }

    private static List<string> AttributionLines(JsonElement report) =>
        report.GetProperty("lines").EnumerateArray().Select(l =>
            $"{l.GetProperty("trigger").GetString()}|{l.GetProperty("channel").GetString()}|" +
            $"{l.GetProperty("conversions").GetDecimal().ToString("0.000000", CultureInfo.InvariantCulture)}|" +
            $"{l.GetProperty("revenue").GetDecimal().ToString("0.000000", CultureInfo.InvariantCulture)}|" +
            $"{l.GetProperty("sent")}|{l.GetProperty("sentConverted")}|{l.GetProperty("withheld")}|{l.GetProperty("controlConverted")}|{Rate(l, "uplift")}").ToList();

    private static string Range(string column, string? from, string? to) =>
        (from is null ? "" : $" and {column} >= '{from}'::timestamptz") + (to is null ? "" : $" and {column} < '{to}'::timestamptz");

    private async Task<List<string>> RowsAsync()
    {
        var campaigns = await QueryAsync($"select (t.*)::text from (select tenant_id, message_id, contact_id, trigger, trigger_version, step, channel, variant, " +
            "entered_at, sent_at, withheld_at, cancelled, suppressed_reason, failed, delivered_at, opened_at, clicked_at, bounced_at, unsubscribed_at, converted_at, revenue " +
            $"from {CampaignReport.TableName} where generation = {ReportGenerations.CurrentGenerationSql(CampaignReport.Name)} order by tenant_id, message_id) t");
        var credits = await QueryAsync($"select (t.*)::text from (select tenant_id, conversion_event_id, message_id, contact_id, trigger, trigger_version, channel, " +
            $"sent_at, converted_at, revenue from {AttributionReport.TableName} where generation = {ReportGenerations.CurrentGenerationSql(AttributionReport.Name)} " +
            "order by tenant_id, conversion_event_id, message_id) t");
        Assert.True(campaigns.Count > Contacts);
        Assert.NotEmpty(credits);
        return [.. campaigns, .. credits];
    }

    private async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return lines;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
