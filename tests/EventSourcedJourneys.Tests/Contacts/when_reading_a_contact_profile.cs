using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;

namespace EventSourcedJourneys.Tests.Contacts;

/// <summary>The profile: traits by event time, latest context, addresses, consent with the event that changed it; events paged and filtered.</summary>
public sealed class when_reading_a_contact_profile(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task the_latest_trait_by_event_time_wins_even_when_an_older_identify_arrives_last()
    {
        await App.PostCallAsync("/v1/identify", """{"userId": "eve", "traits": {"plan": "pro", "email": "eve@new.example"}, "messageId": "t-2", "timestamp": "2026-12-01T07:00:00Z"}""");
        await App.PostCallAsync("/v1/identify", """{"userId": "eve", "traits": {"plan": "free", "email": "eve@old.example", "city": "Lyon"}, "messageId": "t-1", "timestamp": "2026-11-20T07:00:00Z"}""");

        var eve = await App.ContactOfUserAsync("eve");
        Assert.Equal("pro", eve.GetProperty("traits").GetProperty("plan").GetString());
        Assert.Equal("Lyon", eve.GetProperty("traits").GetProperty("city").GetString());
        Assert.Equal("eve@new.example", eve.GetProperty("addresses").GetProperty("email").GetString());
        // The history keeps both values.
        Assert.Equal(2, (await App.CallsOfAsync(eve.Id(), "type=identify")).Count);
    }

    [Fact]
    public async Task the_latest_context_gives_the_time_zone_locale_and_push_tokens()
    {
        await App.PostCallAsync("/v1/track", """
            {"userId": "fay", "event": "Opened", "messageId": "c-1", "timestamp": "2026-12-01T07:00:00Z",
             "context": {"timezone": "Asia/Shanghai", "locale": "zh-CN", "os": {"name": "iOS"}, "device": {"token": "tok-1", "type": "ios"}}}
            """);
        await App.PostCallAsync("/v1/identify", """{"userId": "fay", "traits": {"phone": "+33600000000"}, "messageId": "c-2", "timestamp": "2026-12-01T06:00:00Z", "context": {"timezone": "Europe/Paris"}}""");

        var fay = await App.ContactOfUserAsync("fay");
        var context = fay.GetProperty("latestContext");
        Assert.Equal("Asia/Shanghai", context.GetProperty("timeZone").GetString());
        Assert.Equal("zh-CN", context.GetProperty("locale").GetString());
        Assert.Equal("iOS", context.GetProperty("context").GetProperty("os").GetProperty("name").GetString());
        Assert.Equal("+33600000000", fay.GetProperty("addresses").GetProperty("phone").GetString());
        Assert.Equal("ios", Assert.Single(fay.GetProperty("addresses").GetProperty("pushTokens").EnumerateArray()).GetProperty("platform").GetString());
    }

    [Fact]
    public async Task consent_per_channel_names_the_event_that_changed_it()
    {
        await App.PostCallAsync("/v1/track", """{"userId": "gus", "event": "Unsubscribed", "properties": {"channel": "sms"}, "messageId": "u-1", "timestamp": "2026-12-01T07:00:00Z"}""");
        await App.PostCallAsync("/v1/identify", """{"userId": "gus", "traits": {"subscriptions": {"email": "unsubscribed"}}, "messageId": "u-2", "timestamp": "2026-12-01T07:10:00Z"}""");
        // A late "subscribed" from before the unsubscribe does not undo it.
        await App.PostCallAsync("/v1/track", """{"userId": "gus", "event": "Subscribed", "properties": {"channel": "sms"}, "messageId": "u-0", "timestamp": "2026-11-01T07:00:00Z"}""");

        var subscriptions = (await App.ContactOfUserAsync("gus")).GetProperty("subscriptions");
        Assert.Equal("unsubscribed", subscriptions.GetProperty("sms").GetProperty("status").GetString());
        Assert.Equal("u-1", subscriptions.GetProperty("sms").GetProperty("messageId").GetString());
        Assert.Equal("unsubscribed", subscriptions.GetProperty("email").GetProperty("status").GetString());
        Assert.Equal("u-2", subscriptions.GetProperty("email").GetProperty("messageId").GetString());
        Assert.NotEqual(Guid.Empty, subscriptions.GetProperty("email").GetProperty("eventId").GetGuid());
    }

    [Fact]
    public async Task events_are_filtered_by_name_type_and_time_and_paged_by_event_time()
    {
        var calls = Enumerable.Range(0, 7).Select(i => new
        {
            type = "track", userId = "hal", @event = i % 2 == 0 ? "Viewed" : "Bought", messageId = $"e-{i}",
            timestamp = $"2026-12-01T0{i}:00:00Z",
        });
        await App.PostCallAsync("/v1/batch", new { batch = calls });
        var hal = (await App.ContactOfUserAsync("hal")).Id();

        var viewed = await App.CallsOfAsync(hal, "event=Viewed");
        Assert.Equal(["e-0", "e-2", "e-4", "e-6"], viewed.Select(c => c.GetProperty("messageId").GetString()));
        var window = await App.CallsOfAsync(hal, "type=track&from=2026-12-01T02:00:00Z&to=2026-12-01T05:00:00Z");
        Assert.Equal(["e-2", "e-3", "e-4"], window.Select(c => c.GetProperty("messageId").GetString()));

        var seen = new List<string>();
        string? next = null;
        do
        {
            var page = await App.ReadAsync($"/contacts/{hal}/events?type=track&limit=3{(next is null ? "" : $"&after={next}")}");
            seen.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("messageId").GetString()!));
            next = page.GetProperty("next").GetString();
        } while (next is not null);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"e-{i}"), seen);
    }

    [Fact]
    public async Task bad_filters_and_unknown_contacts_are_problems()
    {
        var problem = await App.ReadAsync($"/contacts/{Guid.NewGuid()}/events?type=purchase&from=yesterday&limit=0", 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("type", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("from", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
        await App.ReadAsync($"/contacts/{Guid.NewGuid()}", 404);
        await App.ReadAsync("/contacts", 400);
    }
}
