using System.Text.Json;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Reports;

/// <summary>Receipts and engagement sent back through /v1/track, end to end: recorded once on the message, counted in
/// the campaign report, and an unsubscribe honoured by the next message.</summary>
public sealed class when_receipts_come_back(AppFixture app) : IntegrationTest(app)
{
    private const string Rules = """
        trigger welcome
            on event "signed_up"
            send email "welcome"
            goal event "order_completed" within 3d revenue properties.total
        """;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await App.PublishDocumentAsync(Rules);
        await App.SaveTemplateAsync("welcome", Channel.Email, "Welcome, {{ traits.first_name }}.", subject: "Welcome");
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "ana", traits = new { first_name = "Ana", email = "ana@example.com" }, timestamp = At(App.Clock.GetCurrentInstant()),
        });
    }

    private object Track(string name, string messageId, object properties) => new
    {
        userId = "ana", @event = name, messageId, properties, timestamp = At(App.Clock.GetCurrentInstant()),
    };

    private async Task<ScheduledMessage> SignUpAsync(string messageId)
    {
        await App.TrackAndSettleAsync("/v1/track", Track("signed_up", messageId, new { }));
        return Assert.Single(await App.MessagesAsync(), m => m.TriggeringEvent is not null && m.Status == ScheduledMessageStatus.Sent
            && !m.Id.Equals(Guid.Empty) && m.ProviderMessageId is not null);
    }

    [Fact]
    public async Task delivered_opened_and_clicked_receipts_show_in_the_campaign_report_once_each()
    {
        var sent = await SignUpAsync("signup-1");

        // Each receipt is also a tracked event the engine looks at; wait for it so that the order's wait below sees only the order.
        await App.TrackAndSettleAsync("/v1/track", Track("Email Delivered", "receipt-1", new { message_id = sent.Id.ToString() }));
        await App.TrackAsync("/v1/track", Track("Email Delivered", "receipt-1", new { message_id = sent.Id.ToString() })); // the same receipt again
        await App.TrackAndSettleAsync("/v1/track", Track("Email Opened", "receipt-2", new { message_id = sent.ProviderMessageId })); // the provider's id
        await App.TrackAndSettleAsync("/v1/track", Track("Email Link Clicked", "receipt-3",
            new { message_id = sent.Id.ToString(), link_url = "https://shop.example/new" }));
        await App.TrackAndSettleAsync("/v1/track", Track("Email Opened", "receipt-4", new { message_id = Guid.NewGuid().ToString() })); // not ours

        var decisions = await App.DecisionsAsync(sent.ContactId);
        Assert.Equal("receipt-1", Assert.Single(decisions.OfType<MessageDelivered>()).ReceiptMessageId);
        Assert.Equal(sent.Id, Assert.Single(decisions.OfType<MessageOpened>()).MessageId);
        Assert.Equal("https://shop.example/new", Assert.Single(decisions.OfType<MessageClicked>()).Url);

        var report = await App.SendAsync(HttpMethod.Get, "/reports/campaigns", null, 200);
        var line = Assert.Single(report.GetProperty("lines").EnumerateArray());
        Assert.Equal("welcome", line.GetProperty("trigger").GetString());
        Assert.Equal(1, line.GetProperty("version").GetInt32());
        Assert.Equal(1, line.GetProperty("step").GetInt32());
        Assert.Equal("email", line.GetProperty("channel").GetString());
        Assert.Equal("default", line.GetProperty("variant").GetString());
        Assert.Equal(
            (1, 1, 0, 0, 1, 1, 1, 0, 0, 0m),
            (line.GetProperty("scheduled").GetInt64(), line.GetProperty("sent").GetInt64(), line.GetProperty("cancelled").GetInt64(),
                line.GetProperty("failed").GetInt64(), line.GetProperty("delivered").GetInt64(), line.GetProperty("opened").GetInt64(),
                line.GetProperty("clicked").GetInt64(), line.GetProperty("bounced").GetInt64(), line.GetProperty("converted").GetInt64(),
                line.GetProperty("revenue").GetDecimal()));
        Assert.All(line.GetProperty("suppressed").EnumerateObject(), reason => Assert.Equal(0, reason.Value.GetInt64()));
        // No control group: nothing withheld, and the uplift is null with the reason.
        Assert.Equal((0L, 0L), (line.GetProperty("withheld").GetInt64(), line.GetProperty("controlConverted").GetInt64()));
        Assert.Equal(JsonValueKind.Null, line.GetProperty("uplift").ValueKind);
        Assert.Equal(Projections.Reports.Uplift.NoControlGroup, line.GetProperty("upliftNote").GetString());

        var one = await App.SendAsync(HttpMethod.Get, "/reports/campaigns/welcome", null, 200);
        Assert.Equal(line.ToString(), Assert.Single(one.GetProperty("lines").EnumerateArray()).ToString());

        var attribution = await App.SendAsync(HttpMethod.Get, "/reports/attribution?model=linear", null, 200);
        Assert.Empty(attribution.GetProperty("lines").EnumerateArray());
    }

    [Fact]
    public async Task an_unsubscribe_receipt_suppresses_the_next_message_for_consent()
    {
        var first = await SignUpAsync("signup-1");
        await App.TrackAsync("/v1/track", Track("Unsubscribed", "receipt-1", new { message_id = first.Id.ToString() }));

        await App.AdvanceClockAsync(NodaTime.Duration.FromHours(1)); // two sign-ups in the same second would enter once
        await App.TrackAndSettleAsync("/v1/track", Track("signed_up", "signup-2", new { }));

        var second = Assert.Single(await App.MessagesAsync(), m => m.Id != first.Id);
        Assert.Equal(ScheduledMessageStatus.Suppressed, second.Status);
        var decisions = await App.DecisionsAsync(first.ContactId);
        Assert.Equal(SuppressionReason.Consent, Assert.Single(decisions.OfType<MessageSuppressed>()).Reason);
        Assert.Equal(first.Id, Assert.Single(decisions.OfType<MessageUnsubscribed>()).MessageId);

        var line = Assert.Single((await App.SendAsync(HttpMethod.Get, "/reports/campaigns", null, 200)).GetProperty("lines").EnumerateArray());
        Assert.Equal((2L, 1L, 1L, 1L), (line.GetProperty("scheduled").GetInt64(), line.GetProperty("sent").GetInt64(),
            line.GetProperty("unsubscribed").GetInt64(), line.GetProperty("suppressed").GetProperty("consent").GetInt64()));
    }

    [Fact]
    public async Task bad_report_queries_are_refused_naming_the_field_and_unknown_triggers_are_not_found()
    {
        var range = await App.SendAsync(HttpMethod.Get, "/reports/campaigns?from=yesterday&to=2026-12-01T00:00:00Z", null, 400);
        Assert.Contains("yesterday", range.GetProperty("errors").GetProperty("from")[0].GetString());
        var reversed = await App.SendAsync(HttpMethod.Get, "/reports/attribution?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", null, 400);
        Assert.True(reversed.GetProperty("errors").TryGetProperty("to", out _));
        var model = await App.SendAsync(HttpMethod.Get, "/reports/attribution?model=u-shaped", null, 400);
        Assert.Contains("last-touch, first-touch, linear", model.GetProperty("errors").GetProperty("model")[0].GetString());
        var missing = await App.SendAsync(HttpMethod.Get, "/reports/campaigns/no_such_trigger", null, 404);
        Assert.Contains("no_such_trigger", missing.GetProperty("detail").GetString());
    }
}
