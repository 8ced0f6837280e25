using System.Collections.Concurrent;
using System.Net.Http.Json;
using EventSourcedJourneys.Dispatch.Tests.Channels;
using EventSourcedJourneys.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedJourneys.Tests.Delivery;

/// <summary>
/// Exactly once, with a real process killed (SIGKILL) while it is posting webhooks: after a restart every message
/// is delivered, each is recorded sent exactly once, and whatever the receiver saw twice carried the same
/// Idempotency-Key (so a receiver that honours it acts once).
/// </summary>
public sealed class when_the_server_is_killed_mid_send(PostgresServer postgres) : IAsyncLifetime
{
    private const int Orders = 20;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"esj-kill-{Guid.NewGuid():N}");
    private LocalHttpReceiver _receiver = null!;
    private string _connectionString = "";

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _connectionString = await postgres.CreateDatabaseAsync("esj_kill");
        _receiver = await LocalHttpReceiver.StartAsync();
        // A slow receiver keeps deliveries in flight when the kill comes.
        _receiver.Respond = _ =>
        {
            Thread.Sleep(150);
            return new Reply(200, "{}");
        };
    }

    private ApiProcess Start() => ApiProcess.Start(_folder, new Dictionary<string, string?>
    {
        ["ConnectionStrings__Journeys"] = _connectionString,
        ["Journeys__DemoWorkspace__KeysFile"] = Path.Combine(_folder, "demo.env"),
        ["Journeys__Durability__Mode"] = "Solo",
        ["Journeys__ScheduledPollingMilliseconds"] = "200",
    });

    private string Key(string name) => File.ReadAllLines(Path.Combine(_folder, "demo.env"))
        .Single(l => l.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];

    [Fact]
    public async Task every_message_is_recorded_sent_once_and_duplicates_carry_the_same_key()
    {
        await using (var first = Start())
        {
            await first.WaitUntilHealthyAsync(TimeSpan.FromMinutes(5));
            using var api = new HttpClient { BaseAddress = new Uri(first.BaseUrl) };
            api.DefaultRequestHeaders.Authorization = new("Bearer", Key("JOURNEYS_API_KEY"));
            (await api.PutAsJsonAsync("/workspace", new { webhookUrl = _receiver.BaseUrl + "/orders" })).EnsureSuccessStatusCode();
            (await api.PutAsJsonAsync("/rules", new { text = "trigger order_to_crm\n    on event \"order_completed\"\n    transactional\n    send webhook \"order\"" }))
                .EnsureSuccessStatusCode();
            (await api.PostAsync("/rules/order_to_crm/publish", null)).EnsureSuccessStatusCode();
            (await api.PutAsJsonAsync("/templates/order", new { channel = "webhook", body = "{\"order\": \"{{ properties.order_id }}\"}" }))
                .EnsureSuccessStatusCode();

            using var tracking = new HttpClient { BaseAddress = new Uri(first.BaseUrl) };
            tracking.DefaultRequestHeaders.Authorization = new("Basic",
                Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Key("JOURNEYS_WRITE_KEY") + ":")));
            var batch = Enumerable.Range(1, Orders).Select(i => new
            {
                type = "track", userId = $"buyer-{i}", @event = "order_completed", messageId = $"order-{i}",
                properties = new { order_id = $"O-{i}" },
            });
            (await tracking.PostAsJsonAsync("/v1/batch", new { batch })).EnsureSuccessStatusCode();

            await _receiver.WaitForAsync(3, TimeSpan.FromSeconds(60));
            first.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        var seenBeforeRestart = _receiver.Requests.Count;

        await using var second = Start();
        await second.WaitUntilHealthyAsync(TimeSpan.FromMinutes(5));
        await WaitForDistinctKeysAsync(Orders, TimeSpan.FromSeconds(90));

        var keys = _receiver.Requests.Select(r => r.Header("Idempotency-Key")).ToList();
        Assert.Equal(Orders, keys.Distinct().Count());
        Assert.True(seenBeforeRestart < Orders, $"the kill came after all {Orders} deliveries; nothing was tested");
        // The same order never arrives under two keys.
        Assert.All(_receiver.Requests.GroupBy(r => r.BodyText), g => Assert.Single(g.Select(r => r.Header("Idempotency-Key")).Distinct()));

        var counts = await SentCountsAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Orders, counts.Count);
        Assert.All(counts.Values, c => Assert.Equal(1, c));
    }

    /// <summary>MessageSent events per message, once every order has one (the last may commit after the receiver answered).</summary>
    private async Task<Dictionary<string, long>> SentCountsAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var sent = new NpgsqlCommand(
                "select data->>'MessageId', count(*) from journeys.mt_events where type = 'message_sent' group by 1", connection);
            var counts = new Dictionary<string, long>();
            await using (var reader = await sent.ExecuteReaderAsync())
                while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
            if (counts.Count >= Orders || DateTime.UtcNow > deadline) return counts;
            await using var wait = new NpgsqlCommand("select pg_sleep(0.2)", connection);
            await wait.ExecuteNonQueryAsync();
        }
    }

    private async Task WaitForDistinctKeysAsync(int count, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (_receiver.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().Count() < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Only {_receiver.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().Count()} of {count} orders arrived.");
            await _receiver.WaitForAsync(_receiver.Requests.Count + 1, TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
    }
}
