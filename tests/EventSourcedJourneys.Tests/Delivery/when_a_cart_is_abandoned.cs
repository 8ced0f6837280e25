using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using NodaTime;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Delivery;

/// <summary>The seed scenario, end to end: a cart over $100 with no order within 30 minutes gets the reminder.</summary>
public sealed class when_a_cart_is_abandoned(AppFixture app) : IntegrationTest(app)
{
    private const string Rules = """
        segment active_buyers =
            count(event "order_completed" in last 45d) >= 1

        trigger abandoned_cart_over_100
            on event "cart_updated" where properties.total > 100
            wait 30m
            cancel if event "order_completed"
            audience segment active_buyers
            send inapp "cart-reminder"
        """;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await App.PublishDocumentAsync(Rules);
        await App.SaveTemplateAsync("cart-reminder", Channel.InApp, "You left {{ properties.total }} in your cart, {{ traits.first_name }}.",
            title: "Still thinking?");
        var now = App.Clock.GetCurrentInstant();
        await App.TrackAsync("/v1/identify", new { userId = "ana", traits = new { first_name = "Ana", email = "ana@example.com" }, timestamp = At(now) });
        await App.TrackAsync("/v1/track", new { userId = "ana", @event = "order_completed", properties = new { total = 40 },
            timestamp = At(now - Duration.FromDays(10)) });
    }

    private Task CartAsync(decimal total, Duration? ago = null) =>
        App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ana", @event = "cart_updated", properties = new { total },
            timestamp = At(App.Clock.GetCurrentInstant() - (ago ?? Duration.Zero)),
        });

    [Fact]
    public async Task the_reminder_goes_out_30_minutes_later_personalised()
    {
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ana", @event = "cart_updated", properties = new { total = 150 }, timestamp = At(App.Clock.GetCurrentInstant()),
        });
        var scheduled = Assert.Single(await App.MessagesAsync());
        Assert.Equal(ScheduledMessageStatus.Scheduled, scheduled.Status);
        Assert.Equal(AppFixture.Start + Duration.FromMinutes(30), scheduled.DueAt);

        await App.AdvanceAndSettleAsync(Duration.FromMinutes(30));

        var sent = Assert.Single(await App.MessagesAsync());
        Assert.Equal(ScheduledMessageStatus.Sent, sent.Status);
        Assert.Equal("abandoned_cart_over_100", sent.Rule);
        var decisions = await App.DecisionsAsync(sent.ContactId);
        Assert.Collection(decisions,
            d => Assert.Equal(150m.ToString(), Assert.IsType<TriggerMatched>(d).Facts["properties.total"]),
            d => Assert.IsType<MessageScheduled>(d),
            d => Assert.Equal("You left 150 in your cart, Ana.", Assert.IsType<InboxMessageDelivered>(d).Body),
            d => Assert.Equal(1, Assert.IsType<MessageSent>(d).Attempt));
    }

    [Fact]
    public async Task the_app_reads_it_from_the_inbox_and_marks_it_read()
    {
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ana", @event = "cart_updated", properties = new { total = 150 }, timestamp = At(App.Clock.GetCurrentInstant()),
        });
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(30));

        var inbox = await App.SendAsync(HttpMethod.Get, "/v1/inbox/ana", null, 200, key: App.Acme.WriteKey);
        Assert.Equal(1, inbox.GetProperty("unread").GetInt32());
        var item = inbox.GetProperty("items")[0];
        Assert.Equal("Still thinking?", item.GetProperty("title").GetString());
        Assert.Equal("You left 150 in your cart, Ana.", item.GetProperty("body").GetString());

        var messageId = item.GetProperty("messageId").GetString();
        await App.SendAsync(HttpMethod.Post, $"/v1/inbox/ana/messages/{messageId}/read", null, 200, key: App.Acme.WriteKey);
        Assert.Equal(0, (await App.SendAsync(HttpMethod.Get, "/v1/inbox/ana", null, 200, key: App.Acme.WriteKey)).GetProperty("unread").GetInt32());

        await App.SendAsync(HttpMethod.Post, $"/v1/inbox/ana/messages/{Guid.NewGuid()}/read", null, 404, key: App.Acme.WriteKey);
        Assert.Equal(0, (await App.SendAsync(HttpMethod.Get, "/v1/inbox/ana", null, 200, key: App.Globex.WriteKey))
            .GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task an_order_at_minute_29_cancels_it()
    {
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ana", @event = "cart_updated", properties = new { total = 150 }, timestamp = At(App.Clock.GetCurrentInstant()),
        });
        await App.AdvanceClockAsync(Duration.FromMinutes(29));
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ana", @event = "order_completed", properties = new { total = 150 }, timestamp = At(App.Clock.GetCurrentInstant()),
        });

        await App.AdvanceAndSettleAsync(Duration.FromMinutes(1));

        var cancelled = Assert.Single(await App.MessagesAsync());
        Assert.Equal(ScheduledMessageStatus.Cancelled, cancelled.Status);
        Assert.Contains("order_completed", cancelled.Reason);
        Assert.DoesNotContain(await App.DecisionsAsync(cancelled.ContactId), d => d is MessageSent);
    }

    [Fact]
    public async Task a_cart_of_90_dollars_starts_nothing()
    {
        await CartAsync(90);
        Assert.Empty(await App.MessagesAsync());
    }
}
