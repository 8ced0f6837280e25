using EventSourcedJourneys.Tests.Infrastructure;
using NodaTime;

namespace EventSourcedJourneys.Tests.Ingestion;

/// <summary>Event time by Segment's rules; arrival order kept beside it.</summary>
public sealed class when_a_call_has_no_timestamp(AppFixture app) : IntegrationTest(app)
{
    private async Task<string> EventTimeOfAsync(string userId)
    {
        var contact = await App.ContactOfUserAsync(userId);
        return Assert.Single(await App.CallsOfAsync(contact.Id())).GetProperty("timestamp").GetString()!;
    }

    [Fact]
    public async Task the_original_timestamp_is_corrected_by_the_clients_clock_skew()
    {
        // The device's clock is 10 minutes fast: it says it sent at 08:10 what happened at 08:05 (its time); the server got it at 08:00.
        await App.PostCallAsync("/v1/track", """
            {"userId": "skew", "event": "X", "originalTimestamp": "2026-12-01T08:05:00Z", "sentAt": "2026-12-01T08:10:00Z"}
            """);
        Assert.Equal("2026-12-01T07:55:00Z", await EventTimeOfAsync("skew"));
    }

    [Fact]
    public async Task a_batchs_sent_at_corrects_each_of_its_calls()
    {
        await App.PostCallAsync("/v1/batch", """
            {"sentAt": "2026-12-01T09:00:00+01:00", "batch": [{"type": "track", "userId": "skew-b", "event": "X", "originalTimestamp": "2026-12-01T07:30:00Z"}]}
            """);
        Assert.Equal("2026-12-01T07:30:00Z", await EventTimeOfAsync("skew-b"));
    }

    [Fact]
    public async Task without_any_client_time_it_is_the_servers_receive_time()
    {
        await App.AdvanceClockAsync(Duration.FromMinutes(3));
        await App.PostCallAsync("/v1/track", """{"userId": "plain", "event": "X"}""");
        Assert.Equal("2026-12-01T08:03:00Z", await EventTimeOfAsync("plain"));
    }

    [Fact]
    public async Task an_event_that_arrives_late_keeps_its_time_and_its_arrival_order()
    {
        await App.PostCallAsync("/v1/track", """{"userId": "late", "event": "Second", "timestamp": "2026-12-01T07:00:00Z", "messageId": "l-2"}""");
        await App.AdvanceClockAsync(Duration.FromMinutes(5));
        await App.PostCallAsync("/v1/track", """{"userId": "late", "event": "First", "timestamp": "2026-11-30T07:00:00Z", "messageId": "l-1"}""");

        var contact = await App.ContactOfUserAsync("late");
        var calls = await App.CallsOfAsync(contact.Id());
        Assert.Equal(["First", "Second"], calls.Select(c => c.GetProperty("event").GetString()));
        Assert.True(calls[0].GetProperty("sequence").GetInt64() > calls[1].GetProperty("sequence").GetInt64());
        Assert.Equal("2026-11-30T07:00:00Z", contact.GetProperty("firstSeenAt").GetString());
        Assert.Equal("2026-12-01T07:00:00Z", contact.GetProperty("lastSeenAt").GetString());
        Assert.Equal("2026-12-01T08:05:00Z", contact.GetProperty("lastReceivedAt").GetString());
    }
}
