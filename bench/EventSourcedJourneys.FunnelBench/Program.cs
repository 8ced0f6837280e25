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
// binary COPY straight into mt_events (as Marten stores them; --writers parallel COPY streams), rebuilds the funnel from
// them (throughput), then times report computations (FunnelReports.ComputeAsync, the endpoint's own code) over several
// ranges. Wall-clock times and CPU times (this process, and the PostgreSQL cluster's processes when the benchmark runs
// its own cluster) are printed for each phase: CPU time per unit of work is what a loaded machine distorts least.
// Usage: dotnet run -c Release --project bench/EventSourcedJourneys.FunnelBench -- \
//   [--connection "Host=…"] [--data .bench/funnel-pg] [--events 10000000] [--contacts N] [--runs 20] [--writers 2]
//   [--skip-load]      reuse the loaded events: rebuild the funnel again, then time the reports
//   [--reports-only]   reuse the loaded events and the funnel's data: time the reports only
//   [--load-only]      load the events, then stop
var events = long.Parse(Arg("--events", "10000000"));
var contacts = int.Parse(Arg("--contacts", (events / 20).ToString()));
var runs = int.Parse(Arg("--runs", "20"));
var writers = int.Parse(Arg("--writers", "2"));
var reportsOnly = args.Contains("--reports-only");
var skipLoad = reportsOnly || args.Contains("--skip-load");
var connectionString = Arg("--connection", "");
await using var cluster = connectionString.Length == 0
    ? await LocalPostgresCluster.StartAsync(new LocalClusterOptions(Arg("--data", ".bench/funnel-pg"), Durable: true), NullLogger.Instance)
    : null;
if (cluster is not null) connectionString = cluster.ConnectionString;
// Bulk statements on a busy machine take as long as they take.
connectionString = new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString;
var cpu = new CpuMeter(cluster?.DataDirectory);

const string Tenant = "bench";
const string Funnel = """funnel checkout = event "product_viewed" -> event "cart_updated" where properties.total > 20 -> event "order_completed" within 7d""";
var origin = Instant.FromUtc(2026, 9, 1, 0, 0);
IClock clock = SystemClock.Instance;
await using var store = new DocumentStore(JourneysStore.Configure(new StoreOptions(), connectionString, clock));
await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
Console.WriteLine($"PostgreSQL: {connectionString.Split(';').FirstOrDefault(p => p.StartsWith("Host"))}; {Environment.ProcessorCount} cores; " +
                  $"load average {LoadAverage()}");

if (!skipLoad)
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
    // A bulk load: let the WAL grow instead of checkpointing every few seconds (this benchmark cluster only).
    await ExecuteAsync(connectionString, "alter system set max_wal_size = '16GB'");
    await ExecuteAsync(connectionString, "select pg_reload_conf()");
    var load = Stopwatch.StartNew();
    var loadCpu = cpu.Start();
    await LoadAsync(connectionString, events, contacts, origin, writers);
    await ExecuteAsync(connectionString, "vacuum analyze journeys.mt_events");
    load.Stop();
    Console.WriteLine($"COPY of {events:N0} events for {contacts:N0} contacts ({writers} writers) and vacuum analyze: " +
                      $"{load.Elapsed.TotalSeconds:N1} s ({events / load.Elapsed.TotalSeconds:N0} events/s); {loadCpu.Describe(events, "event")}; " +
                      $"load average {LoadAverage()}");
}

if (args.Contains("--load-only")) return 0;

if (!reportsOnly)
{
    var rebuilder = new FunnelRebuilder(store, clock, NullLogger<FunnelRebuilder>.Instance);
    var rebuild = Stopwatch.StartNew();
    var rebuildCpu = cpu.Start();
    long read = 0;
    await rebuilder.RebuildFunnelAsync(Tenant, "checkout", new SyncProgress(p => read = p.Done), CancellationToken.None);
    rebuild.Stop();
    var used = rebuildCpu.Describe(events, "stored event");
    await ExecuteAsync(connectionString, "vacuum analyze journeys.funnel_chains");
    await ExecuteAsync(connectionString, "vacuum analyze journeys.funnel_periods");
    var chains = await ScalarAsync(connectionString, "select count(*) from journeys.funnel_chains");
    var periods = await ScalarAsync(connectionString, "select count(*) from journeys.funnel_periods");
    Console.WriteLine($"Rebuild: {read:N0} step events read of {events:N0} in the store, {chains:N0} chains and {periods:N0} period rows written, " +
                      $"{rebuild.Elapsed.TotalSeconds:N1} s = {read / rebuild.Elapsed.TotalSeconds:N0} step events/s " +
                      $"({events / rebuild.Elapsed.TotalSeconds:N0} stored events/s); {used}; load average {LoadAverage()}");
}

FunnelDefinition definition;
await using (var session = store.QuerySession(Tenant))
    definition = (await session.LoadAsync<FunnelDefinition>("checkout"))!;
var ranges = new (string Name, Instant? From, Instant? To, FunnelBreakdown? By)[]
{
    ("1 day", origin + Duration.FromDays(45), origin + Duration.FromDays(46), null),
    ("7 days", origin + Duration.FromDays(40), origin + Duration.FromDays(47), null),
    ("30 days", origin + Duration.FromDays(30), origin + Duration.FromDays(60), null),
    ("October (a calendar month)", Instant.FromUtc(2026, 10, 1, 0, 0), Instant.FromUtc(2026, 11, 1, 0, 0), null),
    ("30 days, partial days at ends", origin + Duration.FromDays(30) + Duration.FromHours(7), origin + Duration.FromDays(60) + Duration.FromHours(13), null),
    ("all 90 days", null, null, null),
    ("7 days by property:source", origin + Duration.FromDays(40), origin + Duration.FromDays(47), new FunnelBreakdown(FunnelBreakdownKind.Property, "source")),
    ("all 90 days by property:source", null, null, new FunnelBreakdown(FunnelBreakdownKind.Property, "source")),
    ("7 days by trait:plan", origin + Duration.FromDays(40), origin + Duration.FromDays(47), new FunnelBreakdown(FunnelBreakdownKind.Trait, "plan")),
    ("all 90 days by trait:plan", null, null, new FunnelBreakdown(FunnelBreakdownKind.Trait, "plan")),
    ("7 days by campaign:welcome", origin + Duration.FromDays(40), origin + Duration.FromDays(47), new FunnelBreakdown(FunnelBreakdownKind.Campaign, "welcome")),
    ("all 90 days by campaign:welcome", null, null, new FunnelBreakdown(FunnelBreakdownKind.Campaign, "welcome")),
};
// --paths sql,memory: the SQL path over the tables (ADR 0013) and the in-memory index (ADR 0017, the endpoint's path);
// --ranges a,b: only the ranges whose names contain one of these.
var paths = Arg("--paths", "memory").Split(',');
var only = Arg("--ranges", "").Split(',', StringSplitOptions.RemoveEmptyEntries);
if (only.Length > 0) ranges = ranges.Where(r => only.Any(o => r.Name.Contains(o, StringComparison.Ordinal))).ToArray();
using var indexes = new FunnelIndexes(NullLogger<FunnelIndexes>.Instance);
if (paths.Contains("memory") || args.Contains("--compare"))
{
    // The async daemon's high-water mark, as the daemon leaves it once it has seen every event (the benchmark runs no
    // daemon): trait and campaign columns re-read the persons with events above it (ADR 0017).
    await ExecuteAsync(connectionString,
        "delete from journeys.mt_event_progression where name = 'HighWaterMark'; " +
        "insert into journeys.mt_event_progression (name, last_seq_id) select 'HighWaterMark', coalesce(max(seq_id), 0) from journeys.mt_events");
    GC.Collect();
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var loadWatch = Stopwatch.StartNew();
    var loadCpu = cpu.Start();
    await indexes.ComputeFromMemoryAsync(store, Tenant, definition, null, null, null, CancellationToken.None);
    Console.WriteLine($"Index load: {loadWatch.Elapsed.TotalSeconds:N1} s; {loadCpu.Describe(1, "load")}; load average {LoadAverage()}");
    loadWatch.Restart();
    loadCpu = cpu.Start();
    await indexes.ComputeFromMemoryAsync(store, Tenant, definition, null, null, new FunnelBreakdown(FunnelBreakdownKind.Property, "source"), CancellationToken.None);
    Console.WriteLine($"Property column load (source): {loadWatch.Elapsed.TotalSeconds:N1} s; {loadCpu.Describe(1, "load")}; load average {LoadAverage()}");
    foreach (var by in new[] { new FunnelBreakdown(FunnelBreakdownKind.Trait, "plan"), new FunnelBreakdown(FunnelBreakdownKind.Campaign, "welcome") })
    {
        loadWatch.Restart();
        loadCpu = cpu.Start();
        await indexes.ComputeFromMemoryAsync(store, Tenant, definition, null, null, by, CancellationToken.None);
        Console.WriteLine($"Person column load ({by}): {loadWatch.Elapsed.TotalSeconds:N1} s; {loadCpu.Describe(1, "load")}; load average {LoadAverage()}");
    }
    var after = GC.GetTotalMemory(forceFullCollection: true);
    foreach (var (_, funnel, version, chains, overlay, people, bytes) in indexes.Describe())
        Console.WriteLine($"Index {funnel}: version {version}, {chains:N0} chains (+{overlay:N0} changed), {people:N0} contacts, " +
                          $"{bytes / 1e6:N0} MB in its arrays; managed heap grew {(after - before) / 1e6:N0} MB");
}

if (args.Contains("--compare"))
{
    // The index's report must be the SQL path's, field for field (the tests check this on small data; here at scale).
    var json = EventSourcedJourneys.Domain.Time.JourneysJson.Create();
    foreach (var (name, from, to, by) in ranges)
    {
        var sql = await FunnelReports.ComputeAsync(store, Tenant, definition, from, to, by, CancellationToken.None);
        var memory = await indexes.ComputeFromMemoryAsync(store, Tenant, definition, from, to, by, CancellationToken.None);
        var same = JsonSerializer.Serialize(sql, json) == JsonSerializer.Serialize(memory, json);
        Console.WriteLine($"Compare {name,-31}: {(same ? "identical" : "DIFFERENT")}");
        if (!same) Console.WriteLine($"  sql:    {JsonSerializer.Serialize(sql, json)}\n  memory: {JsonSerializer.Serialize(memory, json)}");
    }
}

foreach (var path in paths)
{
    foreach (var (name, from, to, by) in ranges)
    {
        Task<FunnelReport> Compute() => path == "sql"
            ? FunnelReports.ComputeAsync(store, Tenant, definition, from, to, by, CancellationToken.None)
            : indexes.ComputeFromMemoryAsync(store, Tenant, definition, from, to, by, CancellationToken.None);
        var times = new List<double>();
        FunnelReport? report = null;
        for (var i = 0; i < 2; i++) report = await Compute();
        var reportCpu = cpu.Start();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            report = await Compute();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"{path,-6} {name,-31}: median {times[times.Count / 2],7:N1} ms, p90 {times[(int)(times.Count * 0.9)],7:N1} ms, " +
                          $"min {times[0],7:N1} ms; {reportCpu.Describe(runs, "report")}; " +
                          $"steps {string.Join(" / ", report!.Steps.Select(s => s.Contacts.ToString("N0")))}; " +
                          $"median times {string.Join(" / ", report.Steps.Skip(1).Select(s => s.MedianTimeFromPrevious?.ToString("H:mm:ss", null)))}" +
                          (report.Breakdown is { } b ? $"; {b.Groups.Count} groups" : "") + $"; load average {LoadAverage()}");
    }
}

if (paths.Contains("memory"))
{
    // Live changes: persons rewritten as the live projection writes them (same chains, a new version each), then the
    // first report after them applies the changes; then a report at the same version.
    var generation = definition.Active!.Id;
    var tables = new FunnelStore(store.Options.Events.DatabaseSchemaName);
    foreach (var changed in new[] { 100, 1_000, 10_000 })
    {
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            var persons = new Dictionary<Guid, List<FunnelChain>>();
            await using (var read = new NpgsqlCommand(
                $"select contact_id, step1_seq, times from {tables.Chains} where generation = @g and contact_id = any(@ids)", connection))
            {
                read.Parameters.AddWithValue("g", generation);
                read.Parameters.AddWithValue("ids", Enumerable.Range(0, changed).Select(c => ContactId(c * 37 % contacts)).ToArray());
                await using var reader = await read.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    var id = reader.GetGuid(0);
                    if (!persons.TryGetValue(id, out var list)) persons[id] = list = [];
                    list.Add(new FunnelChain(reader.GetInt64(1), reader.GetFieldValue<long[]>(2).Select(t => Instant.FromUnixTimeTicks(t * 10)).ToList()));
                }
            }
            // One write per 100 persons, as the daemon's batches write them.
            foreach (var batch in persons.Chunk(100))
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await tables.ReplaceAsync(connection, transaction, generation,
                    batch.Select(p => (new FunnelPerson(p.Key, [p.Key]), (IReadOnlyList<FunnelChain>)p.Value)).ToList(), markDirty: false, skipDirty: false,
                    CancellationToken.None);
                await transaction.CommitAsync();
            }
        }
        var watch = Stopwatch.StartNew();
        var report = await indexes.ComputeFromMemoryAsync(store, Tenant, definition, origin + Duration.FromDays(30), origin + Duration.FromDays(60), null,
            CancellationToken.None);
        var first = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        await indexes.ComputeFromMemoryAsync(store, Tenant, definition, origin + Duration.FromDays(30), origin + Duration.FromDays(60), null,
            CancellationToken.None);
        Console.WriteLine($"After {changed:N0} persons changed: 30 days in {first:N1} ms (applying the changes), then {watch.Elapsed.TotalMilliseconds:N1} ms; " +
                          $"steps {string.Join(" / ", report.Steps.Select(s => s.Contacts.ToString("N0")))}; " +
                          $"{string.Join("; ", indexes.Describe().Select(d => $"version {d.Version}, {d.Overlay:N0} changed chains"))}");
    }
}
Console.WriteLine($"Load average at the end: {LoadAverage()}");
return 0;

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static async Task LoadAsync(string connectionString, long events, int contacts, Instant origin, int writers)
{
    var type = typeof(ContactTracked).GetEventTypeName();
    var dotnetType = $"{typeof(ContactTracked).FullName}, {typeof(ContactTracked).Assembly.GetName().Name}";
    var perContact = (int)(events / contacts);
    await using (var connection = new NpgsqlConnection(connectionString))
    {
        await connection.OpenAsync();
        await using var streams = await connection.BeginBinaryImportAsync(
            "copy journeys.mt_streams (id, type, version, timestamp, created, tenant_id, is_archived) from stdin (format binary)");
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

    // Contacts are split into contiguous slices, one COPY per writer; each contact's events come from its own seeded
    // random, and its sequence numbers from its position, so the data set does not depend on the number of writers.
    var slice = (contacts + writers - 1) / writers;
    await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        WriteEventsAsync(connectionString, w * slice, Math.Min(contacts, (w + 1) * slice), perContact, origin, type, dotnetType))));

    await using var sequence = new NpgsqlConnection(connectionString);
    await sequence.OpenAsync();
    // Marten assigns sequences from its own sequence; move it past the loaded events.
    await using var command = new NpgsqlCommand($"select setval('journeys.mt_events_sequence', {(long)contacts * perContact})", sequence);
    await command.ExecuteNonQueryAsync();
}

static async Task WriteEventsAsync(string connectionString, int first, int end, int perContact, Instant origin, string type, string dotnetType)
{
    string[] others = ["page_viewed", "search", "login", "wishlist_added", "review_read"];
    string[] sources = ["ads", "mail", "search", "social"];
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var writer = await connection.BeginBinaryImportAsync(
        "copy journeys.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived) from stdin (format binary)");
    writer.Timeout = TimeSpan.Zero;
    for (var c = first; c < end; c++)
    {
        var random = new Random(c);
        var contact = ContactId(c);
        var start = origin + Duration.FromMinutes(random.Next(0, 90 * 24 * 60));
        for (var v = 1; v <= perContact; v++)
        {
            // A session-like walk: minutes to hours apart, wrapping inside the 90 days.
            var at = origin + Duration.FromMinutes((start - origin).TotalMinutes + (v - 1) * random.Next(1, 600));
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
            await writer.WriteAsync((long)c * perContact + v, NpgsqlDbType.Bigint);
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

/// <summary>CPU time used by this process and, for a cluster the benchmark runs, by PostgreSQL's processes (the
/// postmaster's own, its live children's, and the children it has already reaped).</summary>
sealed class CpuMeter(string? dataDirectory)
{
    private static readonly double TicksPerSecond = 100.0; // USER_HZ on Linux

    public Interval Start() => new(this, Process.GetCurrentProcess().TotalProcessorTime, Postgres());

    public TimeSpan? Postgres()
    {
        if (dataDirectory is null || !OperatingSystem.IsLinux()) return null;
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).First().Trim(), out var postmaster)) return null;
        double ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[1] is ppid; [11], [12] utime, stime; [13], [14] cutime, cstime (reaped children)
            if (pid == postmaster) ticks += double.Parse(fields[11]) + double.Parse(fields[12]) + double.Parse(fields[13]) + double.Parse(fields[14]);
            else if (fields[1] == postmaster.ToString(System.Globalization.CultureInfo.InvariantCulture)) ticks += double.Parse(fields[11]) + double.Parse(fields[12]);
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    public sealed class Interval(CpuMeter meter, TimeSpan process, TimeSpan? postgres)
    {
        public string Describe(long units, string unit)
        {
            var own = Process.GetCurrentProcess().TotalProcessorTime - process;
            var database = meter.Postgres() - postgres;
            var total = own + (database ?? TimeSpan.Zero);
            var each = total.TotalMilliseconds * 1000 / units;
            return $"CPU {own.TotalSeconds:N2} s here + {(database is { } d ? $"{d.TotalSeconds:N2} s" : "n/a")} PostgreSQL " +
                   $"= {(each >= 1000 ? $"{each / 1000:N1} ms" : $"{each:N1} µs")} per {unit}";
        }
    }
}

sealed class SyncProgress(Action<RebuildProgress> report) : IProgress<RebuildProgress>
{
    public void Report(RebuildProgress value) => report(value);
}
