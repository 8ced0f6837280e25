using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

// Trigger → dispatch latency of the delivery engine, end to end: tracked events posted at a steady rate to a running
// server, a no-wait (or --wait N seconds) webhook trigger, and a local HTTP receiver that timestamps each arrival.
// Usage: dotnet run -c Release --project bench/EventSourcedJourneys.DeliveryLatency -- \
//   [--url http://127.0.0.1:5000] [--keys-file .data/demo-workspace.env] [--rate 1000] [--seconds 20] [--wait 0] [--contacts 500]
var url = Arg("--url", "http://127.0.0.1:5000");
var keysFile = Arg("--keys-file", ".data/demo-workspace.env");
var rate = int.Parse(Arg("--rate", "1000"));
var seconds = int.Parse(Arg("--seconds", "20"));
var wait = int.Parse(Arg("--wait", "0"));
var contacts = int.Parse(Arg("--contacts", "500")); // the probes cycle through this many contacts
var keys = File.ReadAllLines(keysFile).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

var clock = Stopwatch.StartNew();
var sentAt = new ConcurrentDictionary<string, double>();
var arrivals = new ConcurrentQueue<(string Id, string Key, double At)>();
var receiver = WebApplication.CreateSlimBuilder();
receiver.WebHost.UseUrls("http://127.0.0.1:0");
receiver.Logging.ClearProviders();
var app = receiver.Build();
app.MapPost("/hook", async (HttpRequest request) =>
{
    var at = clock.Elapsed.TotalMilliseconds;
    using var body = await JsonDocument.ParseAsync(request.Body);
    // The webhook channel posts an envelope; the rendered template is its content.body.
    using var content = JsonDocument.Parse(body.RootElement.GetProperty("content").GetProperty("body").GetString()!);
    arrivals.Enqueue((content.RootElement.GetProperty("id").GetString()!, request.Headers["Idempotency-Key"].ToString(), at));
    return Results.Ok();
});
await app.StartAsync();
var hookUrl = app.Urls.Single().TrimEnd('/') + "/hook";

using var api = new HttpClient { BaseAddress = new Uri(url) };
api.DefaultRequestHeaders.Authorization = new("Bearer", keys["JOURNEYS_API_KEY"]);
(await api.PutAsJsonAsync("/workspace", new { webhookUrl = hookUrl })).EnsureSuccessStatusCode();
var rule = $"trigger latency_probe\n    on event \"latency_probe\"\n{(wait > 0 ? $"    wait {wait}s\n" : "")}    transactional\n    send webhook \"latency-probe\"";
(await api.PutAsJsonAsync("/rules", new { text = rule })).EnsureSuccessStatusCode();
(await api.PostAsync("/rules/latency_probe/publish", null)).EnsureSuccessStatusCode();
(await api.PutAsJsonAsync("/templates/latency-probe", new { channel = "webhook", body = "{\"id\": \"{{ properties.probe }}\"}" }))
    .EnsureSuccessStatusCode();

using var tracking = new HttpClient { BaseAddress = new Uri(url) };
tracking.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(keys["JOURNEYS_WRITE_KEY"] + ":")));
var run = Guid.NewGuid().ToString("N")[..6];
const int perBatch = 10;
var interval = TimeSpan.FromSeconds(perBatch / (double)rate);
Console.WriteLine($"{rate} events/s for {seconds}s in batches of {perBatch}, wait {wait}s, receiver {hookUrl}");

var posts = new List<Task>();
var rejected = new ConcurrentBag<string>();
var next = clock.Elapsed;
var sequence = 0;
while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
{
    var batch = Enumerable.Range(0, perBatch).Select(_ =>
    {
        var id = $"{run}-{Interlocked.Increment(ref sequence)}";
        return new { type = "track", userId = $"probe-{sequence % contacts}", @event = "latency_probe", messageId = id, properties = new { probe = id } };
    }).ToList();
    var at = clock.Elapsed.TotalMilliseconds;
    foreach (var call in batch) sentAt[call.messageId] = at;
    posts.Add(Post(batch));
    next += interval;
    var pause = next - clock.Elapsed;
    if (pause > TimeSpan.Zero) await Task.Delay(pause);
}
await Task.WhenAll(posts);
if (!rejected.IsEmpty)
{
    Console.WriteLine($"{rejected.Count} batches were refused, e.g.: {rejected.First()}");
    return 1;
}
var posted = sequence;
var deadline = clock.Elapsed + TimeSpan.FromSeconds(60 + wait);
while (arrivals.Select(a => a.Id).Distinct().Count() < posted && clock.Elapsed < deadline) await Task.Delay(200);

var firstArrival = arrivals.GroupBy(a => a.Id).ToDictionary(g => g.Key, g => g.Min(a => a.At));
var latencies = firstArrival.Where(a => sentAt.ContainsKey(a.Key)).Select(a => a.Value - sentAt[a.Key] - wait * 1000.0).Order().ToArray();
double P(double q) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))];
var span = arrivals.IsEmpty ? 0 : (arrivals.Max(a => a.At) - arrivals.Min(a => a.At)) / 1000.0;
// A repeated arrival with the same Idempotency-Key is a retry the receiver drops; one event under two keys would be two
// messages for one trigger (never expected).
var repeatedKeys = arrivals.GroupBy(a => a.Key).Count(g => g.Count() > 1);
var twoMessages = arrivals.GroupBy(a => a.Id).Count(g => g.Select(a => a.Key).Distinct().Count() > 1);
Console.WriteLine($"posted {posted}, delivered {firstArrival.Count} distinct, {arrivals.Count - firstArrival.Count} repeated arrivals " +
    $"({repeatedKeys} Idempotency-Keys seen twice or more, {twoMessages} events delivered under two keys)");
Console.WriteLine($"{(wait > 0 ? "lateness after the due time" : "event → webhook latency")}: p50 {P(0.5):F0} ms, p99 {P(0.99):F0} ms, max {P(1):F0} ms");
Console.WriteLine($"webhook deliveries: {arrivals.Count / Math.Max(span, 0.001):F0}/s over {span:F1}s");
await app.StopAsync();
return 0;

async Task Post(object batch)
{
    using var response = await tracking.PostAsJsonAsync("/v1/batch", new { batch });
    if (!response.IsSuccessStatusCode) rejected.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
}

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}
