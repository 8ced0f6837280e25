using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

// Posts batches of Segment track calls to /v1/batch over HTTP and reports sustained events/s and request latency.
// Usage: dotnet run -c Release --project bench/EventSourcedJourneys.LoadGenerator -- \
//   [--url http://127.0.0.1:5000] [--write-key KEY | --keys-file .data/demo-workspace.env]
//   [--batch 100] [--concurrency 8] [--seconds 30] [--warmup 5] [--contacts 10000]
var options = Options.Parse(args);
var writeKey = options.WriteKey ?? ReadWriteKey(options.KeysFile);

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    BaseAddress = new Uri(options.Url),
    Timeout = TimeSpan.FromSeconds(60),
};
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));

var run = Guid.NewGuid().ToString("N")[..8];
long sequence = 0;
var total = Stopwatch.StartNew();
var measuring = false;
var latencies = new List<double>[options.Concurrency];
long measuredEvents = 0, failures = 0;
var measureWatch = new Stopwatch();

Console.WriteLine($"posting batches of {options.Batch} to {options.Url}/v1/batch with {options.Concurrency} concurrent clients, " +
                  $"{options.Contacts:N0} contacts, {options.Warmup}s warm-up + {options.Seconds}s measured");

var end = TimeSpan.FromSeconds(options.Warmup + options.Seconds);
var workers = Enumerable.Range(0, options.Concurrency).Select(worker => Task.Run(async () =>
{
    latencies[worker] = [];
    var random = new Random(worker);
    while (total.Elapsed < end)
    {
        var body = Batch(options.Batch, options.Contacts, run, random, ref sequence);
        var started = Stopwatch.GetTimestamp();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/batch", content);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
        {
            Interlocked.Increment(ref failures);
            if (failures < 5) Console.Error.WriteLine($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            continue;
        }
        if (Volatile.Read(ref measuring))
        {
            latencies[worker].Add(elapsed);
            Interlocked.Add(ref measuredEvents, options.Batch);
        }
    }
})).ToArray();

await Task.Delay(TimeSpan.FromSeconds(options.Warmup));
Volatile.Write(ref measuring, true);
measureWatch.Start();
await Task.WhenAll(workers);
measureWatch.Stop();

var all = latencies.SelectMany(l => l).Order().ToArray();
double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
Console.WriteLine($"requests: {all.Length:N0} ok, {failures:N0} failed");
Console.WriteLine($"events/s: {measuredEvents / measureWatch.Elapsed.TotalSeconds:N0}");
Console.WriteLine($"latency ms: p50 {Percentile(0.50):N1}  p90 {Percentile(0.90):N1}  p99 {Percentile(0.99):N1}  max {(all.Length == 0 ? 0 : all[^1]):N1}");
return failures == 0 ? 0 : 1;

static byte[] Batch(int size, int contacts, string run, Random random, ref long sequence)
{
    var buffer = new MemoryStream(size * 400);
    using (var json = new Utf8JsonWriter(buffer))
    {
        json.WriteStartObject();
        json.WriteString("sentAt", DateTimeOffset.UtcNow);
        json.WriteStartArray("batch");
        for (var i = 0; i < size; i++)
        {
            var n = Interlocked.Increment(ref sequence);
            var contact = random.Next(contacts);
            json.WriteStartObject();
            json.WriteString("type", "track");
            json.WriteString("userId", $"user-{contact}");
            json.WriteString("event", (n % 4) switch { 0 => "Product Viewed", 1 => "Cart Updated", 2 => "Checkout Started", _ => "Order Completed" });
            json.WriteString("messageId", $"{run}-{n}");
            json.WriteString("timestamp", DateTimeOffset.UtcNow.AddSeconds(-random.Next(60)));
            json.WriteStartObject("properties");
            json.WriteNumber("total", Math.Round(random.NextDouble() * 300, 2));
            json.WriteString("currency", "EUR");
            json.WriteString("sku", $"SKU-{random.Next(500)}");
            json.WriteEndObject();
            json.WriteStartObject("context");
            json.WriteString("timezone", "Europe/Paris");
            json.WriteString("locale", "fr-FR");
            json.WriteStartObject("library");
            json.WriteString("name", "loadgen");
            json.WriteString("version", "1.0");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
    return buffer.ToArray();
}

static string ReadWriteKey(string file)
{
    foreach (var line in File.ReadAllLines(file))
    {
        if (line.StartsWith("JOURNEYS_WRITE_KEY=", StringComparison.Ordinal)) return line["JOURNEYS_WRITE_KEY=".Length..].Trim();
    }
    throw new InvalidOperationException($"{file} has no JOURNEYS_WRITE_KEY line; pass --write-key.");
}

internal sealed record Options(string Url, string? WriteKey, string KeysFile, int Batch, int Concurrency, int Seconds, int Warmup, int Contacts)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
        }
        return new Options(
            Get("--url", "http://127.0.0.1:5000").TrimEnd('/'),
            Get("--write-key", "") is { Length: > 0 } key ? key : null,
            Get("--keys-file", ".data/demo-workspace.env"),
            int.Parse(Get("--batch", "100")),
            int.Parse(Get("--concurrency", "8")),
            int.Parse(Get("--seconds", "30")),
            int.Parse(Get("--warmup", "5")),
            int.Parse(Get("--contacts", "10000")));
    }
}
