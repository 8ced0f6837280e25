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
/// A seeded dataset of a thousand contacts, their messages, receipts and conversions, appended as the engine appends
/// them; the campaign report and the three attribution models must equal straightforward SQL over mt_events, and the
/// read models rebuilt from scratch must equal the live ones.
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
                var sent = new List<(Guid Id, RuleVersionRef Rule, Channel Channel, Instant At, bool Converted)>();
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
                    var sentAt = at + Duration.FromMinutes(random.Next(0, 120));
                    events.Add(new MessageSent(contact, id, channel, $"provider-{id:N}", 1, sentAt, rule.Name, false, rule));
                    sent.Add((id, rule, channel, sentAt, false));
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
                        events.Add(new ConversionAttributed(contact, s.Id, s.Rule, reference, s.At, at, s.Channel, random.Next(10) == 0 ? null : total));
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

        Assert.Equal(await CampaignSqlAsync(null, null), CampaignLines(await App.SendAsync(HttpMethod.Get, "/reports/campaigns", null, 200)));
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
            "  and (type like 'message%' or type like 'inbox_message%' or type = 'conversion_attributed')), " +
            "m as (select message, min(data->'Rule'->>'Name') filter (where type = 'message_scheduled') as trigger, " +
            "  min((data->'Rule'->>'Version')::int) filter (where type = 'message_scheduled') as version, " +
            "  min(data->>'Channel') filter (where type = 'message_scheduled') as channel, " +
            "  min((data->>'ScheduledAt')::timestamptz) filter (where type = 'message_scheduled') as entered, " +
            "  bool_or(type = 'message_sent') as sent, bool_or(type = 'message_cancelled') as cancelled, " +
            "  min(data->>'Reason') filter (where type = 'message_suppressed') as reason, " +
            "  bool_or(type = 'message_failed' and (data->>'Permanent')::boolean) as failed, " +
            "  bool_or(type in ('message_delivered', 'inbox_message_delivered')) as delivered, bool_or(type in ('message_opened', 'inbox_message_read')) as opened, " +
            "  bool_or(type = 'message_clicked') as clicked, bool_or(type = 'message_bounced') as bounced, bool_or(type = 'message_unsubscribed') as unsubscribed, " +
            "  bool_or(type = 'conversion_attributed') as converted, sum((data->>'Revenue')::numeric) filter (where type = 'conversion_attributed') as revenue " +
            "  from ev group by message) " +
            "select trigger || '|' || version || '|1|' || channel || '|default|' || count(*) || '|' || count(*) filter (where sent) " +
            $" || '|' || count(*) filter (where cancelled) || '|' || {reasons} || '|' || count(*) filter (where failed) " +
            " || '|' || count(*) filter (where delivered) || '|' || count(*) filter (where opened) || '|' || count(*) filter (where clicked) " +
            " || '|' || count(*) filter (where bounced) || '|' || count(*) filter (where unsubscribed) || '|' || count(*) filter (where converted) " +
            " || '|' || coalesce(sum(revenue), 0) " +
            "from m where trigger is not null" + Range("entered", from, to) + " group by trigger, version, channel order by trigger, version, channel");
    }

    private static List<string> CampaignLines(JsonElement report) =>
        report.GetProperty("lines").EnumerateArray().Select(l =>
            $"{l.GetProperty("trigger").GetString()}|{l.GetProperty("version")}|{l.GetProperty("step")}|{l.GetProperty("channel").GetString()}|" +
            $"{l.GetProperty("variant").GetString()}|{l.GetProperty("scheduled")}|{l.GetProperty("sent")}|{l.GetProperty("cancelled")}|" +
            string.Join(",", l.GetProperty("suppressed").EnumerateObject().Select(r => $"{r.Name}={r.Value}")) +
            $"|{l.GetProperty("failed")}|{l.GetProperty("delivered")}|{l.GetProperty("opened")}|{l.GetProperty("clicked")}|{l.GetProperty("bounced")}|" +
            $"{l.GetProperty("unsubscribed")}|{l.GetProperty("converted")}|{l.GetProperty("revenue").GetDecimal().ToString(CultureInfo.InvariantCulture)}").ToList();

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
            "lasts as (select distinct on (conversion) conversion, message from credits order by conversion, sent desc, message desc) " +
            $"select c.trigger || '|' || c.channel || '|' || round(sum({credit}), 6) || '|' || round(sum(c.revenue * ({credit})), 6) " +
            "from credits c group by c.trigger, c.channel order by c.trigger, c.channel");
    }

    private static List<string> AttributionLines(JsonElement report) =>
        report.GetProperty("lines").EnumerateArray().Select(l =>
            $"{l.GetProperty("trigger").GetString()}|{l.GetProperty("channel").GetString()}|" +
            $"{l.GetProperty("conversions").GetDecimal().ToString("0.000000", CultureInfo.InvariantCulture)}|" +
            $"{l.GetProperty("revenue").GetDecimal().ToString("0.000000", CultureInfo.InvariantCulture)}").ToList();

    private static string Range(string column, string? from, string? to) =>
        (from is null ? "" : $" and {column} >= '{from}'::timestamptz") + (to is null ? "" : $" and {column} < '{to}'::timestamptz");

    private async Task<List<string>> RowsAsync()
    {
        var campaigns = await QueryAsync($"select (t.*)::text from (select tenant_id, message_id, contact_id, trigger, trigger_version, step, channel, variant, " +
            "entered_at, sent_at, cancelled, suppressed_reason, failed, delivered_at, opened_at, clicked_at, bounced_at, unsubscribed_at, converted_at, revenue " +
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
