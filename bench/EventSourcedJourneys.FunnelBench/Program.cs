using System.Diagnostics;
using System.Text.Json;
using EventSourcedJourneys.Api.Hosting;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Projections.Rules;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Npgsql;
using NpgsqlTypes;

// Funnel report latency over a large event store, and the funnel rebuild's throughput.
// Generates --events tracked events (default 10,000,000) for --contacts contacts (default events / 20) over 90 days with
// binary COPY straight into mt_events (as Marten stores them), rebuilds the funnel from them (throughput), then times
// GET-equivalent report computations (FunnelReports.ComputeAsync, the endpoint's own code) over several ranges.
// Usage: dotnet run -c Release --project bench/EventSourcedJourneys.FunnelBench -- \
//   [--connection "Host=…"] [--data .bench/funnel-pg] [--events 10000000] [--contacts N] [--runs 20] [--skip-load]
var events = long.Parse(Arg("--events", "10000000"));
var contacts = int.Parse(Arg("--contacts", (events / 20).ToString()));
var runs = int.Parse(Arg("--runs", "20"));
var connectionString = Arg("--connection", "");
await using var cluster = connectionString.Length == 0
    ? await LocalPostgresCluster.StartAsync(new LocalClusterOptions(Arg("--data", ".bench/funnel-pg"), Durable: true), NullLogger.Instance)
    : null;
if (cluster is not null) connectionString = cluster.ConnectionString;

const string Tenant = "bench";
const string Funnel = """funnel checkout = event "product_viewed" -> event "cart_updated" where properties.total > 20 -> event "order_completed" within 7d""";
var origin = Instant.FromUtc(2026, 9, 1, 0, 0);
IClock clock = SystemClock.Instance;
await using var store = new DocumentStore(JourneysStore.Configure(new StoreOptions(), connectionString, clock));
await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
Console.WriteLine($"PostgreSQL: {connectionString.Split(';').FirstOrDefault(p => p.StartsWith("Host"))}; {Environment.ProcessorCount} cores");

if (!args.Contains("--skip-load"))
{
    await store.Advanced.ResetAllData();
    await using (var session = store.LightweightSession(Tenant))
    {
        session.Store(new LiveRuleSet
        {
            Revision = 1,
            Rules = { ["checkout"] = new LiveRule("checkout", "funnel", 1, Funnel, "bench", false, origin) },
        });
        await session.SaveChangesAsync();
    }
    var load = Stopwatch.StartNew();
    await LoadAsync(connectionString, events, contacts, origin);
    Console.WriteLine($"COPY of {events:N0} events for {contacts:N0} contacts: {load.Elapsed.TotalSeconds:N1} s ({events / load.Elapsed.TotalSeconds:N0} events/s)");
    await ExecuteAsync(connectionString, "vacuum analyze journeys.mt_events");

    var rebuilder = new FunnelRebuilder(store, clock, NullLogger<FunnelRebuilder>.Instance);
    var rebuild = Stopwatch.StartNew();
    long read = 0;
    await rebuilder.RebuildFunnelAsync(Tenant, "checkout", new SyncProgress(p => read = p.Done), CancellationToken.None);
    rebuild.Stop();
    await ExecuteAsync(connectionString, "vacuum analyze journeys.funnel_chains");
    var chains = await ScalarAsync(connectionString, "select count(*) from journeys.funnel_chains");
    Console.WriteLine($"Rebuild: {read:N0} step events read of {events:N0} in the store, {chains:N0} chains written, " +
                      $"{rebuild.Elapsed.TotalSeconds:N1} s = {read / rebuild.Elapsed.TotalSeconds:N0} step events/s " +
                      $"({events / rebuild.Elapsed.TotalSeconds:N0} stored events/s)");
}

FunnelDefinition definition;
await using (var session = store.QuerySession(Tenant))
    definition = (await session.LoadAsync<FunnelDefinition>("checkout"))!;
var ranges = new (string Name, Instant? From, Instant? To, FunnelBreakdown? By)[]
{
    ("1 day", origin + Duration.FromDays(45), origin + Duration.FromDays(46), null),
    ("7 days", origin + Duration.FromDays(40), origin + Duration.FromDays(47), null),
    ("30 days", origin + Duration.FromDays(30), origin + Duration.FromDays(60), null),
    ("all 90 days", null, null, null),
    ("7 days by property:source", origin + Duration.FromDays(40), origin + Duration.FromDays(47), new FunnelBreakdown(FunnelBreakdownKind.Property, "source")),
};
foreach (var (name, from, to, by) in ranges)
{
    var times = new List<double>();
    FunnelReport? report = null;
    for (var i = 0; i < runs + 2; i++)
    {
        var watch = Stopwatch.StartNew();
        report = await FunnelReports.ComputeAsync(store, Tenant, definition, from, to, by, CancellationToken.None);
        if (i >= 2) times.Add(watch.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    Console.WriteLine($"Report {name,-26}: median {times[times.Count / 2],7:N1} ms, p90 {times[(int)(times.Count * 0.9)],7:N1} ms, " +
                      $"min {times[0],7:N1} ms; steps {string.Join(" / ", report!.Steps.Select(s => s.Contacts.ToString("N0")))}");
}
return 0;

static async Task LoadAsync(string connectionString, long events, int contacts, Instant origin)
{
    string[] others = ["page_viewed", "search", "login", "wishlist_added", "review_read"];
    string[] sources = ["ads", "mail", "search", "social"];
    var random = new Random(42);
    var type = typeof(ContactTracked).GetEventTypeName();
    var dotnetType = $"{typeof(ContactTracked).FullName}, {typeof(ContactTracked).Assembly.GetName().Name}";
    var perContact = (int)(events / contacts);
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using (var streams = await connection.BeginBinaryImportAsync(
        "copy journeys.mt_streams (id, type, version, timestamp, created, tenant_id, is_archived) from stdin (format binary)"))
    {
        for (var c = 0; c < contacts; c++)
        {
            await streams.StartRowAsync();
            await streams.WriteAsync(ContactId(c), NpgsqlDbType.Uuid);
            await streams.WriteAsync("contact", NpgsqlDbType.Varchar);
            await streams.WriteAsync((long)perContact, NpgsqlDbType.Bigint);
            await streams.WriteAsync(DateTime.UtcNow, NpgsqlDbType.TimestampTz);
            await streams.WriteAsync(DateTime.UtcNow, NpgsqlDbType.TimestampTz);
            await streams.WriteAsync("bench", NpgsqlDbType.Varchar);
            await streams.WriteAsync(false, NpgsqlDbType.Boolean);
        }
        await streams.CompleteAsync();
    }

    await using var writer = await connection.BeginBinaryImportAsync(
        "copy journeys.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived) from stdin (format binary)");
    long written = 0;
    for (var c = 0; c < contacts && written < events; c++)
    {
        var contact = ContactId(c);
        var start = origin + Duration.FromMinutes(random.Next(0, 90 * 24 * 60));
        for (var v = 1; v <= perContact && written < events; v++, written++)
        {
            // A session-like walk: minutes to hours apart, wrapping inside the 90 days.
            var at = origin + Duration.FromMinutes((start - origin).TotalMinutes + (v - 1) * random.Next(1, 600)) ;
            if (at >= origin + Duration.FromDays(90)) at = origin + Duration.FromMinutes(random.Next(0, 90 * 24 * 60));
            var roll = random.Next(100);
            var (name, properties) = roll switch
            {
                < 30 => ("product_viewed", $$"""{"source":"{{sources[random.Next(sources.Length)]}}","sku":"p-{{random.Next(1000)}}"}"""),
                < 45 => ("cart_updated", $$"""{"total":{{random.Next(1, 200)}}}"""),
                < 50 => ("order_completed", $$"""{"total":{{random.Next(1, 200)}}}"""),
                _ => (others[random.Next(others.Length)], "{}"),
            };
            var time = at.ToString();
            var data = $$"""{"ContactId":"{{contact}}","MessageId":"b-{{c}}-{{v}}","Event":"{{name}}","Properties":{{properties}},"Context":{},"Timestamp":"{{time}}","ReceivedAt":"{{time}}","UserId":"u-{{c}}","AnonymousId":null}""";
            await writer.StartRowAsync();
            await writer.WriteAsync(written + 1, NpgsqlDbType.Bigint);
            await writer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
            await writer.WriteAsync(contact, NpgsqlDbType.Uuid);
            await writer.WriteAsync((long)v, NpgsqlDbType.Bigint);
            await writer.WriteAsync(data, NpgsqlDbType.Jsonb);
            await writer.WriteAsync(type, NpgsqlDbType.Varchar);
            await writer.WriteAsync(at.ToDateTimeUtc(), NpgsqlDbType.TimestampTz);
            await writer.WriteAsync("bench", NpgsqlDbType.Varchar);
            await writer.WriteAsync(dotnetType, NpgsqlDbType.Varchar);
            await writer.WriteAsync(false, NpgsqlDbType.Boolean);
        }
    }
    await writer.CompleteAsync();
    await writer.DisposeAsync();
    // Marten assigns sequences from its own sequence; move it past the loaded events.
    await using var sequence = new NpgsqlCommand($"select setval('journeys.mt_events_sequence', {written})", connection);
    await sequence.ExecuteNonQueryAsync();
}

static Guid ContactId(int c) => new($"00000000-0000-0000-0000-{c:x12}");

static async Task ExecuteAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
    await command.ExecuteNonQueryAsync();
}

static async Task<long> ScalarAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
    return (long)(await command.ExecuteScalarAsync())!;
}

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

sealed class SyncProgress(Action<RebuildProgress> report) : IProgress<RebuildProgress>
{
    public void Report(RebuildProgress value) => report(value);
}
