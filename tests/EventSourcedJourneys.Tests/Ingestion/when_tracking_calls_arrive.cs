using System.Text.Json;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Tests.Ingestion;

/// <summary>Segment's calls become events on the contact's stream, once each, with Segment's answers.</summary>
public sealed class when_tracking_calls_arrive(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task a_track_call_is_answered_like_segment_and_stored_on_the_contacts_stream()
    {
        var answer = await App.PostCallAsync("/v1/track", """
            {"userId": "u-1", "event": "Order Completed", "properties": {"total": 120.5, "currency": "EUR"},
             "context": {"timezone": "Europe/Paris", "locale": "fr-FR"}, "messageId": "m-1", "timestamp": "2026-12-01T07:30:00.250Z"}
            """);
        Assert.True(answer.GetProperty("success").GetBoolean());

        var contact = await App.ContactOfUserAsync("u-1");
        var calls = await App.CallsOfAsync(contact.Id());
        var call = Assert.Single(calls);
        Assert.Equal("track", call.GetProperty("type").GetString());
        Assert.Equal("Order Completed", call.GetProperty("event").GetString());
        Assert.Equal("m-1", call.GetProperty("messageId").GetString());
        Assert.Equal("2026-12-01T07:30:00.25Z", call.GetProperty("timestamp").GetString());
        Assert.Equal("2026-12-01T08:00:00Z", call.GetProperty("receivedAt").GetString());
        Assert.Equal(120.5m, call.GetProperty("data").GetProperty("properties").GetProperty("total").GetDecimal());
        Assert.Equal("Europe/Paris", contact.GetProperty("latestContext").GetProperty("timeZone").GetString());
    }

    [Fact]
    public async Task every_call_type_is_accepted_on_its_route_and_in_a_batch()
    {
        await App.PostCallAsync("/v1/identify", """{"userId": "u-2", "traits": {"name": "Ada"}, "messageId": "i-1"}""");
        await App.PostCallAsync("/v1/page", """{"userId": "u-2", "name": "Pricing", "messageId": "p-1"}""");
        await App.PostCallAsync("/v1/screen", """{"userId": "u-2", "name": "Home", "messageId": "s-1"}""");
        await App.PostCallAsync("/v1/group", """{"userId": "u-2", "groupId": "acme-inc", "messageId": "g-1"}""");
        await App.PostCallAsync("/v1/alias", """{"previousId": "u-2-old", "userId": "u-2", "messageId": "a-1"}""");
        await App.PostCallAsync("/v1/import", """{"batch": [{"type": "track", "userId": "u-2", "event": "Imported", "messageId": "t-1"}]}""");

        var contact = await App.ContactOfUserAsync("u-2");
        var types = (await App.CallsOfAsync(contact.Id())).Select(c => c.GetProperty("type").GetString()).Order().ToArray();
        Assert.Equal(["alias", "group", "identify", "page", "screen", "track"], types);
        Assert.Equal(["acme-inc"], contact.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(contact.Id(), (await App.ContactOfAnonymousAsync("u-2-old")).Id());
    }

    [Fact]
    public async Task the_write_key_can_also_come_in_the_body()
    {
        var body = JsonSerializer.Serialize(new { writeKey = App.Acme.WriteKey, batch = new[] { new { type = "track", anonymousId = "a-9", @event = "Opened", messageId = "wk-1" } } });
        await App.PostCallAsync("/v1/batch", body, 200, withoutAuthorization: true);
        Assert.Equal(1, (await App.ContactOfAnonymousAsync("a-9")).GetProperty("events").GetInt32());
    }

    [Fact]
    public async Task an_unknown_write_key_is_refused_and_a_workspace_sees_only_its_own_contacts()
    {
        await App.PostCallAsync("/v1/track", """{"userId": "u-3", "event": "X"}""", 401, writeKey: "esj_write_unknown");
        await App.PostCallAsync("/v1/track", """{"userId": "u-3", "event": "X"}""", writeKey: App.Globex.WriteKey);
        await App.ContactOfUserAsync("u-3", 404);
        var globex = await App.ReadAsync("/contacts?userId=u-3", apiKey: App.Globex.ApiKey);
        Assert.Equal(1, globex.GetProperty("events").GetInt32());
    }

    [Fact]
    public async Task a_write_key_cannot_read_contacts()
    {
        await App.PostCallAsync("/v1/track", """{"userId": "u-4", "event": "X"}""");
        await App.ReadAsync("/contacts?userId=u-4", 403, apiKey: App.Acme.WriteKey);
    }

    [Fact]
    public async Task a_retried_batch_appends_nothing_twice_even_when_the_retries_race()
    {
        var batch = JsonSerializer.Serialize(new
        {
            batch = Enumerable.Range(0, 50).Select(i => new { type = "track", userId = $"r-{i % 5}", @event = "Viewed", messageId = $"retry-{i}" }),
        });
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => App.PostCallAsync("/v1/batch", batch)));
        await App.PostCallAsync("/v1/batch", batch);

        await using var session = App.Host.DocumentStore().QuerySession("acme");
        var tracked = await session.Events.QueryRawEventDataOnly<EventSourcedJourneys.Domain.Contacts.ContactTracked>().CountAsync();
        Assert.Equal(50, tracked);
        for (var user = 0; user < 5; user++) Assert.Equal(10, (await App.ContactOfUserAsync($"r-{user}")).GetProperty("events").GetInt32());
    }

    [Fact]
    public async Task first_calls_of_one_new_person_racing_each_other_make_one_contact()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            App.PostCallAsync("/v1/track", $$"""{"userId": "racer", "anonymousId": "device-{{i % 2}}", "event": "Opened", "messageId": "race-{{i}}"}""")));

        var contact = await App.ContactOfUserAsync("racer");
        Assert.Equal(8, contact.GetProperty("events").GetInt32());
        Assert.Equal(contact.Id(), (await App.ContactOfAnonymousAsync("device-0")).Id());
        Assert.Equal(contact.Id(), (await App.ContactOfAnonymousAsync("device-1")).Id());
    }

    [Fact]
    public async Task calls_without_a_message_id_are_each_stored()
    {
        await App.PostCallAsync("/v1/track", """{"userId": "u-5", "event": "X"}""");
        await App.PostCallAsync("/v1/track", """{"userId": "u-5", "event": "X"}""");
        Assert.Equal(2, (await App.ContactOfUserAsync("u-5")).GetProperty("events").GetInt32());
    }

    [Fact]
    public async Task a_gzipped_batch_with_a_message_id_twice_stores_it_once()
    {
        var json = """{"batch": [{"type": "track", "userId": "zip", "event": "A", "messageId": "z-1"}, {"type": "track", "userId": "zip", "event": "A", "messageId": "z-1"}]}""";
        using var compressed = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json));
        var bytes = compressed.ToArray();

        await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", TrackingApi.Basic(App.Acme.WriteKey));
            s.Post.Url("/v1/batch");
            s.WithRequestHeader("Content-Encoding", "gzip");
            s.ConfigureHttpContext(context =>
            {
                context.Request.Body = new MemoryStream(bytes);
                context.Request.ContentLength = bytes.Length;
                context.Request.ContentType = "application/json";
            });
            s.StatusCodeShouldBe(200);
        });
        Assert.Equal(1, (await App.ContactOfUserAsync("zip")).GetProperty("events").GetInt32());
    }
}
