using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using EventSourcedJourneys.Tests.Rules;
using NodaTime;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Segments;

public sealed class when_contacts_enter_and_leave_segments(AppFixture app) : IntegrationTest(app)
{
    private const string ActiveBuyers = """
        segment active_buyers =
            count(event "order_completed" in last 45d) >= 1
        """;

    private async Task<Guid> OrderAsync(string userId, Duration? ago = null)
    {
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId, @event = "order_completed", properties = new { total = 40 },
            timestamp = At(App.Clock.GetCurrentInstant() - (ago ?? Duration.Zero)),
        });
        return Guid.Parse((await App.ContactOfUserAsync(userId)).Id());
    }

    [Fact]
    public async Task a_buyer_enters_on_an_order_and_leaves_on_day_46_with_no_new_event()
    {
        await App.PublishSegmentsAsync(ActiveBuyers);
        var ana = await OrderAsync("ana");

        var entered = Assert.IsType<SegmentEntered>(Assert.Single(await App.SegmentEventsAsync(ana)));
        Assert.Equal(("active_buyers", 1, AppFixture.Start), (entered.Segment, entered.Version, entered.At));
        Assert.Equal((await App.SegmentAsync("active_buyers")).GetProperty("contentHash").GetString(), entered.ContentHash);
        Assert.Equal(["active_buyers"], await App.SegmentsOfAsync(ana));

        // Day 45: the order is still inside the window (both ends included); nothing is due yet.
        await App.AdvanceClockAsync(Duration.FromDays(45));
        Assert.Equal(["active_buyers"], await App.SegmentsOfAsync(ana));

        await App.AdvanceAndSettleAsync(Duration.FromDays(1));

        var exited = Assert.IsType<SegmentExited>((await App.SegmentEventsAsync(ana))[^1]);
        Assert.Equal(AppFixture.Start + Duration.FromDays(46), exited.At);
        Assert.Empty(await App.SegmentsOfAsync(ana));
        var segment = await App.SegmentAsync("active_buyers");
        Assert.Equal(0, segment.GetProperty("size").GetInt64());
        Assert.Equal(
            [("2026-12-01", 1L), ("2027-01-16", 0L)],
            segment.GetProperty("sizeHistory").EnumerateArray().Select(d => (d.GetProperty("day").GetString(), d.GetProperty("size").GetInt64())));
    }

    [Fact]
    public async Task a_late_event_from_long_ago_does_not_make_a_buyer_and_a_new_order_keeps_one_in()
    {
        await App.PublishSegmentsAsync(ActiveBuyers);
        var bo = await OrderAsync("bo", ago: Duration.FromDays(50));
        Assert.Empty(await App.SegmentEventsAsync(bo));

        await OrderAsync("bo", ago: Duration.FromDays(10));
        Assert.IsType<SegmentEntered>(Assert.Single(await App.SegmentEventsAsync(bo)));
        // A second order while in: no second entry.
        await OrderAsync("bo");
        Assert.Single(await App.SegmentEventsAsync(bo));

        // Day 36 the first order leaves the window, but the newer one holds the contact in until day 45.
        await App.AdvanceClockAsync(Duration.FromDays(40));
        Assert.Equal(["active_buyers"], await App.SegmentsOfAsync(bo));
        await App.AdvanceAndSettleAsync(Duration.FromDays(6));
        Assert.Empty(await App.SegmentsOfAsync(bo));
    }

    [Fact]
    public async Task entering_a_segment_starts_the_triggers_on_it_and_leaving_it_those_on_exit()
    {
        await App.PublishSegmentsAsync("""
            segment gold = traits.plan = "gold"

            trigger welcome_to_gold
                on entered segment gold
                transactional
                send inapp "gold-welcome"

            trigger sorry_to_see_you_go
                on exited segment gold
                transactional
                send inapp "gold-goodbye"
            """);
        await App.SaveTemplateAsync("gold-welcome", Channel.InApp, "Welcome to gold", title: "Gold");
        await App.SaveTemplateAsync("gold-goodbye", Channel.InApp, "Goodbye from gold", title: "Gold");

        await App.TrackAndSettleAsync("/v1/identify", new { userId = "cy", traits = new { plan = "gold" }, timestamp = At(App.Clock.GetCurrentInstant()) });
        var welcome = Assert.Single(await App.MessagesAsync());
        Assert.Equal("welcome_to_gold", welcome.Rule);

        await App.TrackAndSettleAsync("/v1/identify", new { userId = "cy", traits = new { plan = "free" }, timestamp = At(App.Clock.GetCurrentInstant()) });
        Assert.Equal(["sorry_to_see_you_go", "welcome_to_gold"], (await App.MessagesAsync()).Select(m => m.Rule).Order());
        Assert.Empty(await App.SegmentsOfAsync(welcome.ContactId));
    }
}
