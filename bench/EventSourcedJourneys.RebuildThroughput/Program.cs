using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EventSourcedJourneys.Api.Hosting;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Projections.Rebuilds;
using Marten;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;

// Rebuild throughput of the heaviest read model, the contact profile (every tracking call of every contact, with its
// traits, context and push tokens), through the product's blue/green rebuild (ADR 0009) over N stored events.
// Usage: dotnet run -c Release --project bench/EventSourcedJourneys.RebuildThroughput -- \
//   [--events 1000000] [--contacts 20000] [--connection "Host=…" [--reuse-events]]
//   (default: a throwaway local cluster, fsync on; --reuse-events rebuilds again from the events a previous run left in
//   that database instead of appending them anew)
var events = int.Parse(Arg("--events", "1000000"), CultureInfo.InvariantCulture);
var contacts = int.Parse(Arg("--contacts", "20000"), CultureInfo.InvariantCulture);
var connection = Arg("--connection", "");
var reuse = args.Contains("--reuse-events") && connection.Length > 0;

LocalPostgresCluster? cluster = null;
var folder = Path.Combine(Path.GetTempPath(), $"esj-rebuild-bench-{Guid.NewGuid():N}");
if (connection.Length == 0)
{
    Directory.CreateDirectory(folder);
    if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
        File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
    cluster = await LocalPostgresCluster.StartAsync(new LocalClusterOptions(Path.Combine(folder, "postgres")), NullLogger.Instance);
    connection = cluster.ConnectionString;
}

try
{
    var clock = SystemClock.Instance;
    using var store = new DocumentStore(JourneysStore.Configure(new StoreOptions(), connection, clock));
    await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
    if (!reuse) await store.Advanced.ResetAllData();

    // The events as ingestion stores them, appended by a store without inline projections (the rebuild makes them).
    var loadOptions = JourneysStore.Configure(new StoreOptions(), connection, clock);
    loadOptions.Projections.All.Clear();
    if (!reuse)
    {
        using var loader = new DocumentStore(loadOptions);
        var loading = Stopwatch.StartNew();
        var perContact = events / contacts;
        var start = Instant.FromUtc(2026, 1, 1, 0, 0);
        var properties = JsonSerializer.SerializeToElement(new { sku = "SKU-1", total = 129.5, currency = "EUR" });
        var context = JsonSerializer.SerializeToElement(new
        {
            timezone = "Europe/Paris", locale = "fr-FR", ip = "203.0.113.7",
            device = new { token = "push-token", type = "ios" }, page = new { path = "/cart", title = "Cart" },
        });
        const int contactsPerBatch = 20;
        var batches = Enumerable.Range(0, contacts / contactsPerBatch);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (batch, cancellation) =>
        {
            await using var session = loader.LightweightSession("acme");
            for (var c = batch * contactsPerBatch; c < (batch + 1) * contactsPerBatch; c++)
            {
                var id = DeterministicContact(c);
                var user = $"user-{c}";
                var stream = new List<object> { new IdentityLinked(id, Identity.User(user), $"m-{c}-0", start) };
                for (var e = 1; e < perContact; e++)
                {
                    var at = start + Duration.FromMinutes(e);
                    stream.Add(new ContactTracked(id, $"m-{c}-{e}", e % 7 == 0 ? "order_completed" : "cart_updated", properties, context,
                        at, at, user, null));
                }
                session.Events.StartStream(id, stream);
            }
            await session.SaveChangesAsync(cancellation);
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded {contacts * perContact:N0} events ({contacts:N0} contacts) in {loading.Elapsed.TotalSeconds:0.0} s"));

        // A store that has lived a while has planner statistics (autovacuum's ANALYZE); one just filled has none, and then
        // the daemon's first page queries alone took over a minute here. Measure the rebuild, not the missing statistics.
        await using var analyze = new Npgsql.NpgsqlConnection(connection);
        await analyze.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"analyze {JourneysStore.Schema}.mt_events; analyze {JourneysStore.Schema}.mt_streams", analyze);
        await command.ExecuteNonQueryAsync();
    }

    var profile = MartenReadModel.AllOf(store, schema => JourneysStore.Configure(new StoreOptions(), connection, clock, schema))
        .Single(m => m.Name == "contact-profile");
    var lastShown = -1L;
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var rebuilding = Stopwatch.StartNew();
    var progress = new Printer(p =>
    {
        if (p.Done - lastShown < 100_000 && p.Done < p.Total || p.Done == lastShown) return;
        lastShown = p.Done;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {rebuilding.Elapsed.TotalSeconds,6:0.0} s  {p.Done:N0}/{p.Total:N0} {p.Unit}  (CPU so far {(Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds:0.0} s)"));
    });
    await profile.RebuildAsync(progress, CancellationToken.None);
    rebuilding.Stop();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

    foreach (var phase in profile.LastRebuildPhases)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  phase {phase.Name}: {phase.Elapsed.TotalSeconds:0.00} s, process CPU {phase.ProcessCpu.TotalSeconds:0.00} s"));
    await using var session = store.QuerySession("acme");
    var profiles = await session.Query<EventSourcedJourneys.Projections.Contacts.ContactProfile>().CountAsync();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"rebuilt contact-profile: {contacts * (events / contacts):N0} events -> {profiles:N0} profiles in {rebuilding.Elapsed.TotalSeconds:0.0} s " +
        $"= {contacts * (events / contacts) / rebuilding.Elapsed.TotalSeconds:N0} events/s " +
        $"({(profile.RebuildsStreamByStream ? "stream by stream" : $"async daemon, batch size {MartenReadModel.BatchSize}")}); " +
        $"this process used {cpu.TotalSeconds:0.0} s of CPU = {contacts * (events / contacts) / cpu.TotalSeconds:N0} events per CPU-second; " +
        $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
    return profiles == contacts ? 0 : 1;
}
finally
{
    if (cluster is not null) await cluster.DisposeAsync();
    if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
}

static Guid DeterministicContact(int n) => new($"00000000-0000-7000-8000-{n:D12}");

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

sealed class Printer(Action<RebuildProgress> print) : IProgress<RebuildProgress>
{
    public void Report(RebuildProgress value) => print(value);
}
