using System.Globalization;
using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using EventSourcedJourneys.Tests.Rules;
using JasperFx.Core;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>
/// Provably right: a seeded dataset of a few thousand contacts (ties in event time, arrival out of event-time order,
/// anonymous histories merged into known users, traits, campaign messages) goes through the real ingestion API; the
/// report must equal a straightforward SQL query over mt_events written from docs/semantics.md, and the live
/// projection must equal the one rebuilt from scratch.
/// </summary>
public sealed class when_a_funnel_is_checked_against_the_raw_events(AppFixture app) : IntegrationTest(app)
{
    internal const int Contacts = 2000;
    internal const string Funnel = """
        funnel checkout = event "viewed" -> event "cart" where properties.total > 50 -> event "order" within 2d
        """;
    internal static readonly Instant Origin = Instant.FromUtc(2026, 10, 1, 0, 0);

    [Fact]
    public async Task the_report_equals_an_independent_query_and_the_live_data_equals_a_rebuild()
    {
        await App.PublishFunnelAsync("checkout", Funnel);
        var calls = Generate(new Random(20261125));
        foreach (var batch in calls.Chunk(200))
            await App.PostCallAsync("/v1/batch", JsonSerializer.Serialize(new { batch }));
        await AppendCampaignMessagesAsync(App, new Random(7));
        var store = App.Host.DocumentStore();
        await store.WaitForNonStaleProjectionDataAsync(180.Seconds());

        // The whole history, whole days, partial days at both ends, one whole month, and open ends (ADR 0013 reads each
        // differently: the whole-history period, day and month periods, chains for the partial days).
        var ranges = new[]
        {
            ("", (DateTime?)null, (DateTime?)null),
            ("from=2026-10-05T00:00:00Z&to=2026-10-15T00:00:00Z", Utc(2026, 10, 5, 0, 0), Utc(2026, 10, 15, 0, 0)),
            ("from=2026-10-03T07:30:00Z&to=2026-10-20T13:15:00Z", Utc(2026, 10, 3, 7, 30), Utc(2026, 10, 20, 13, 15)),
            ("from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z", Utc(2026, 10, 1, 0, 0), Utc(2026, 11, 1, 0, 0)),
            ("to=2026-10-12T12:00:00Z", null, Utc(2026, 10, 12, 12, 0)),
            ("from=2026-10-09T18:00:00Z", Utc(2026, 10, 9, 18, 0), null),
        };
        var live = new List<string>();
        foreach (var (query, from, to) in ranges)
        {
            var report = await App.ReportAsync("checkout", query);
            var expected = await ExpectedAsync(from, to);
            Assert.True(expected.Overall[0] > Contacts / 10, "the dataset should give a sizeable funnel");
            Assert.True(expected.Overall[2] > Contacts / 100, "the dataset should reach the last step");
            Assert.Equal(expected.Overall, report.GetProperty("steps").Counts());
            var steps = report.GetProperty("steps").EnumerateArray().ToList();
            for (var k = 2; k <= 3; k++)
            {
                Assert.Equal(expected.Percentiles[k - 2].Median, Micros(steps[k - 1].GetProperty("medianTimeFromPrevious")));
                Assert.Equal(expected.Percentiles[k - 2].P90, Micros(steps[k - 1].GetProperty("p90TimeFromPrevious")));
            }

            foreach (var (breakdown, groups) in expected.Breakdowns)
            {
                var actual = (await App.ReportAsync("checkout", Join(query, $"breakdown={breakdown}"))).GetProperty("breakdown").GetProperty("groups")
                    .EnumerateArray().ToDictionary(g => g.GetProperty("value").GetString() ?? "(not set)", g => g.GetProperty("steps").Counts());
                Assert.Equal(groups.Keys.Order(), actual.Keys.Order());
                foreach (var (value, counts) in groups) Assert.Equal(counts, actual[value]);
            }
            live.Add(Comparable(await App.ReportAsync("checkout", Join(query, "breakdown=trait:plan"))));
        }

        var before = await RowsAsync();
        var rebuild = App.Host.Services.GetServices<IRebuildableProjection>().Single(p => p.Name == "funnels");
        var progress = new List<RebuildProgress>();
        await rebuild.RebuildAsync(new Progress<RebuildProgress>(progress.Add), CancellationToken.None);
        var after = await RowsAsync();
        Assert.NotEqual(before.Generation, after.Generation);
        Assert.Equal(before.Rows.Count, after.Rows.Count);
        Assert.Equal(before.Rows, after.Rows);
        for (var i = 0; i < ranges.Length; i++)
            Assert.Equal(live[i], Comparable(await App.ReportAsync("checkout", Join(ranges[i].Item1, "breakdown=trait:plan"))));
    }

    private static DateTime Utc(int year, int month, int day, int hour, int minute) => new(year, month, day, hour, minute, 0, DateTimeKind.Utc);

    private static long? Micros(JsonElement duration) =>
        duration.ValueKind == JsonValueKind.Null ? null : JsonSerializer.Deserialize<Duration>(duration.GetRawText(), Json).ToInt64Nanoseconds() / 1000;

    private static readonly JsonSerializerOptions Json = EventSourcedJourneys.Domain.Time.JourneysJson.Create();

    private static string Join(string query, string more) => query.Length == 0 ? more : query + "&" + more;

    /// <summary>The report without the instant it was computed at.</summary>
    private static string Comparable(JsonElement report) =>
        JsonSerializer.Serialize(report.EnumerateObject().Where(p => p.Name != "computedAt").ToDictionary(p => p.Name, p => p.Value));

    /// <summary>Each contact: 0–9 events on a coarse grid of minutes (so event times tie), some before an identify that
    /// merges an anonymous history into the user; all calls then arrive in a shuffled order.</summary>
    internal static List<object> Generate(Random random)
    {
        var calls = new List<object>();
        var merges = new List<object>();
        string[] names = ["viewed", "cart", "order", "browsed"];
        string[] sources = ["ads", "mail", "search"];
        string[] plans = ["free", "pro", "team"];
        for (var c = 0; c < Contacts; c++)
        {
            var user = $"u-{c}";
            var anonymous = c % 8 == 0 ? $"a-{c}" : null;
            var day = random.Next(0, 25);
            var count = random.Next(0, 10);
            for (var i = 0; i < count; i++)
            {
                var at = Origin + Duration.FromDays(day) + Duration.FromMinutes(random.Next(0, 6) * 30 + random.Next(0, 3) * 24 * 60);
                var name = names[random.Next(names.Length)];
                object properties = name switch
                {
                    "viewed" => new { source = sources[random.Next(sources.Length)] },
                    "cart" => new { total = random.Next(0, 120) },
                    _ => new { },
                };
                var byAnonymous = anonymous is not null && random.Next(2) == 0;
                calls.Add(byAnonymous
                    ? new { type = "track", anonymousId = anonymous, @event = name, properties, timestamp = Text(at), messageId = $"t-{c}-{i}" }
                    : new { type = "track", userId = user, @event = name, properties, timestamp = Text(at), messageId = $"t-{c}-{i}" });
            }
            if (random.Next(3) > 0)
                calls.Add(new { type = "identify", userId = user, traits = new { plan = plans[random.Next(plans.Length)] },
                    timestamp = Text(Origin + Duration.FromMinutes(c)), messageId = $"i-{c}" });
            if (anonymous is not null)
                merges.Add(new { type = "identify", userId = user, anonymousId = anonymous, timestamp = Text(Origin + Duration.FromDays(30)), messageId = $"m-{c}" });
        }
        // Arrival order is not event-time order.
        var shuffled = calls.OrderBy(_ => random.Next()).ToList();
        shuffled.AddRange(merges);
        return shuffled;
    }

    private static string Text(Instant at) => at.ToString("uuuu-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Messages of the trigger "welcome" sent to a third of the users, appended as the engine appends them.</summary>
    internal static async Task AppendCampaignMessagesAsync(AppFixture app, Random random, int offset = 0)
    {
        await using var session = app.Host.DocumentStore().LightweightSession("acme");
        for (var c = offset; c < Contacts; c += 3)
        {
            var contact = await ContactProfiles.FindAsync(session, Identity.User($"u-{c}"));
            if (contact is null) continue;
            var sentAt = Origin + Duration.FromHours(random.Next(0, 30 * 24));
            session.Events.Append(contact.Value, new MessageSent(contact.Value, Guid.NewGuid(), Channel.Email, $"p-{c}", 1, sentAt, "welcome"));
        }
        await session.SaveChangesAsync();
    }

    private sealed record Expected(
        long[] Overall, Dictionary<string, Dictionary<string, long[]>> Breakdowns, IReadOnlyList<(long? Median, long? P90)> Percentiles);

    /// <summary>
    /// The semantics, straight from the text, over the raw events: a stream belongs to the contact it was merged into
    /// (following merges); for every step-1 event in the range, each later step is the earliest qualifying event after
    /// the previous match (event time, then store sequence) no later than the window after the step-1 event; a contact's
    /// chain is its deepest, then earliest step-1 event, then first stored.
    /// </summary>
    private async Task<Expected> ExpectedAsync(DateTime? from, DateTime? to)
    {
        const string sql = """
            with recursive merges as (
                select (data ->> 'MergedContactId')::uuid as merged, stream_id as survivor
                from journeys.mt_events where tenant_id = 'acme' and type = 'contact_merged'
            ), owner as (
                select stream_id, stream_id as contact, 0 as hops from (select distinct stream_id from journeys.mt_events where tenant_id = 'acme') s
                union all
                select o.stream_id, m.survivor, o.hops + 1 from owner o join merges m on m.merged = o.contact where o.hops < 10
            ), person as (
                select distinct on (stream_id) stream_id, contact from owner order by stream_id, hops desc
            ), tracked as (
                select e.seq_id, p.contact, (e.data ->> 'Timestamp')::timestamptz as ts, e.data ->> 'Event' as name, e.data -> 'Properties' as props
                from journeys.mt_events e join person p on p.stream_id = e.stream_id
                where e.tenant_id = 'acme' and e.type = 'contact_tracked'
            ), chains as (
                select s1.contact, s1.seq_id as s1seq, s1.ts as t1, s1.props as p1, s2.ts as t2, s3.ts as t3
                from tracked s1
                left join lateral (
                    select e.seq_id, e.ts from tracked e
                    where e.contact = s1.contact and e.name = 'cart' and (e.props ->> 'total')::numeric > 50
                      and (e.ts, e.seq_id) > (s1.ts, s1.seq_id) and e.ts <= s1.ts + interval '2 days'
                    order by e.ts, e.seq_id limit 1) s2 on true
                left join lateral (
                    select e.ts from tracked e
                    where s2.seq_id is not null and e.contact = s1.contact and e.name = 'order'
                      and (e.ts, e.seq_id) > (s2.ts, s2.seq_id) and e.ts <= s1.ts + interval '2 days'
                    order by e.ts, e.seq_id limit 1) s3 on true
                where s1.name = 'viewed' and (@from::timestamptz is null or s1.ts >= @from) and (@to::timestamptz is null or s1.ts < @to)
            ), chosen as (
                select distinct on (contact) contact, t1, t2, t3, p1, 1 + (t2 is not null)::int + (t3 is not null)::int as depth
                from chains order by contact, 1 + (t2 is not null)::int + (t3 is not null)::int desc, t1, s1seq
            ), plan as (
                select distinct on (p.contact) p.contact, e.data -> 'Traits' ->> 'plan' as plan
                from journeys.mt_events e join person p on p.stream_id = e.stream_id
                where e.tenant_id = 'acme' and e.type = 'contact_identified' and jsonb_exists(e.data -> 'Traits', 'plan')
                order by p.contact, (e.data ->> 'Timestamp')::timestamptz desc
            )
            select c.depth, c.p1 ->> 'source', coalesce(pl.plan, '(not set)'),
                (extract(epoch from c.t2 - c.t1) * 1000000)::bigint, (extract(epoch from c.t3 - c.t2) * 1000000)::bigint,
                case when exists (
                    select 1 from journeys.mt_events e join person p on p.stream_id = e.stream_id
                    where p.contact = c.contact and e.tenant_id = 'acme' and e.type = 'message_sent'
                      and e.data ->> 'Rule' = 'welcome' and (e.data ->> 'SentAt')::timestamptz < c.t1) then 'exposed' else 'not exposed' end
            from chosen c left join plan pl on pl.contact = c.contact
            """;
        var rows = new List<(int Depth, string Source, string Plan, string Campaign)>();
        var times = new List<(long? Step2, long? Step3)>();
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("from", NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)from ?? DBNull.Value);
        command.Parameters.AddWithValue("to", NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)to ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.IsDBNull(1) ? "(not set)" : reader.GetString(1), reader.GetString(2), reader.GetString(5)));
            times.Add((reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4)));
        }
        await reader.DisposeAsync();
        var percentiles = new List<(long?, long?)>();
        foreach (var step in new[] { times.Select(t => t.Step2), times.Select(t => t.Step3) })
            percentiles.Add(await PercentilesAsync(connection, step.OfType<long>().ToArray()));

        static long[] CountsOf(IEnumerable<int> depths)
        {
            var list = depths.ToList();
            return [.. Enumerable.Range(1, 3).Select(k => (long)list.Count(d => d >= k))];
        }
        Dictionary<string, long[]> By(Func<(int Depth, string Source, string Plan, string Campaign), string> key) =>
            rows.GroupBy(key).ToDictionary(g => g.Key, g => CountsOf(g.Select(r => r.Depth)));
        return new Expected(CountsOf(rows.Select(r => r.Depth)), new()
        {
            ["property:source"] = By(r => r.Source),
            ["trait:plan"] = By(r => r.Plan),
            ["campaign:welcome"] = By(r => r.Campaign),
        }, percentiles);
    }

    /// <summary>Median and p90 by PostgreSQL's own definition (nearest rank, percentile_disc) of the independently
    /// chosen chains' step times.</summary>
    private static async Task<(long?, long?)> PercentilesAsync(NpgsqlConnection connection, long[] values)
    {
        await using var command = new NpgsqlCommand(
            "select percentile_disc(0.5) within group (order by v), percentile_disc(0.9) within group (order by v) from unnest(@values) v", connection);
        command.Parameters.AddWithValue("values", values);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1));
    }

    private async Task<(Guid Generation, List<string> Rows)> RowsAsync()
    {
        await using var session = App.Host.DocumentStore().QuerySession("acme");
        var definition = await session.LoadAsync<FunnelDefinition>("checkout");
        var generation = definition!.Active!.Id;
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var rows = new List<string>();
        await using (var command = new NpgsqlCommand(
            "select contact_id, step1_at, step1_seq, depth, times from journeys.funnel_chains where generation = @g " +
            "order by contact_id, step1_at, step1_seq", connection))
        {
            command.Parameters.AddWithValue("g", generation);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add($"{reader.GetGuid(0)} {reader.GetDateTime(1):O} {reader.GetInt64(2)} {reader.GetInt16(3)} {string.Join(",", reader.GetFieldValue<long[]>(4))}");
        }
        rows.AddRange(await FunnelTables.PeriodRowsAsync(connection, generation));
        return (generation, rows);
    }
}
