using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Dispatch.Delivery;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Dispatch.Tests.Channels;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Infrastructure;
using NodaTime;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Delivery;

/// <summary>The seed scenarios of send windows, frequency caps, transactional messages and date reminders, end to end
/// through real channels (a local SMTP server, a Twilio-shaped local HTTP server).</summary>
public sealed class when_the_engine_holds_caps_and_windows(AppFixture app) : IntegrationTest(app)
{
    private const string Rules = """
        trigger cart_reminder
            on event "cart_updated"
            send email "cart-reminder"
            send between 09:00 and 21:00 local

        trigger promo
            on event "promo_viewed"
            send inapp "promo"

        trigger order_shipped
            on event "order_shipped"
            transactional
            send sms "shipping-update"

        trigger vip_expiry_reminder
            on date traits.vip_expires_at minus 30d, 15d, 7d at 10:00 local
            cancel if event "vip_renewed"
            send sms "vip-expiry"

        policy frequency cap 3 per 1d, 10 per 7d
        """;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await App.PublishDocumentAsync(Rules);
        await App.SaveTemplateAsync("cart-reminder", Channel.Email, "Hi {{ traits.first_name }}, your cart is waiting.", subject: "Your cart");
        await App.SaveTemplateAsync("promo", Channel.InApp, "Today only!", title: "Promo");
        await App.SaveTemplateAsync("shipping-update", Channel.Sms, "Order {{ properties.order_id }} is on its way.");
        await App.SaveTemplateAsync("vip-expiry", Channel.Sms, "Your VIP membership ends on {{ traits.vip_expires_at }}.");
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "ana",
            traits = new { first_name = "Ana", email = "ana@example.com", phone = "+33612345678" },
            context = new { timezone = "Europe/Paris" },
            timestamp = At(App.Clock.GetCurrentInstant()),
        });
    }

    private object Track(string name, object? properties = null) => new
    {
        userId = "ana", @event = name, properties = properties ?? new { }, timestamp = At(App.Clock.GetCurrentInstant()),
    };

    [Fact]
    public async Task a_cart_updated_at_23_00_in_paris_is_emailed_at_09_00_there()
    {
        await App.AdvanceClockAsync(Duration.FromHours(14)); // 22:00 UTC = 23:00 in Paris
        await App.TrackAndSettleAsync("/v1/track", Track("cart_updated"));

        var held = Assert.Single(await App.MessagesAsync());
        Assert.Equal(ScheduledMessageStatus.Rescheduled, held.Status);
        Assert.Equal(Instant.FromUtc(2026, 12, 2, 8, 0), held.DueAt); // 09:00 in Paris
        Assert.Contains("Europe/Paris", held.Reason);
        Assert.DoesNotContain(App.Smtp.Received, m => IsMessage(m, held.Id));

        await App.AdvanceAndSettleAsync(Duration.FromHours(10));

        var sent = Assert.Single(await App.MessagesAsync());
        Assert.Equal(ScheduledMessageStatus.Sent, sent.Status);
        var mail = await App.Smtp.WaitForAsync(m => IsMessage(m, held.Id));
        Assert.Contains("ana@example.com", mail.To);
        Assert.Equal("Your cart", mail.Message.Subject);
        Assert.Contains("Hi Ana, your cart is waiting.", mail.Message.TextBody);
    }

    [Fact]
    public async Task a_fourth_marketing_message_in_a_day_is_suppressed_while_a_transactional_one_goes()
    {
        for (var i = 0; i < 3; i++)
        {
            await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
            await App.AdvanceClockAsync(Duration.FromMinutes(10));
        }
        await App.TrackAndSettleAsync("/v1/track", Track("promo_viewed"));
        var before = App.Providers.Requests.Count;
        await App.TrackAndSettleAsync("/v1/track", Track("order_shipped", new { order_id = "A-1001" }));

        var messages = await App.MessagesAsync();
        Assert.Equal(3, messages.Count(m => m.Rule == "promo" && m.Status == ScheduledMessageStatus.Sent));
        var capped = Assert.Single(messages, m => m.Rule == "promo" && m.Status == ScheduledMessageStatus.Suppressed);
        Assert.Contains("at most 3 marketing messages per 1d", capped.Reason);
        Assert.Equal(ScheduledMessageStatus.Sent, Assert.Single(messages, m => m.Rule == "order_shipped").Status);

        var sms = Assert.Single(App.Providers.Requests.Skip(before), r => r.Path.EndsWith("/Messages.json") && r.BodyText.Contains("A-1001"));
        Assert.EndsWith("/2010-04-01/Accounts/ACtest/Messages.json", sms.Path);
        Assert.Contains("A-1001", Uri.UnescapeDataString(sms.BodyText));
        Assert.Contains("%2B33612345678", sms.BodyText);
    }

    [Fact]
    public async Task vip_reminders_go_30_15_and_7_days_before_expiry_at_10_00_local()
    {
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "ana", traits = new { vip_expires_at = "2027-02-15" }, timestamp = At(App.Clock.GetCurrentInstant()),
        });

        var reminders = (await App.MessagesAsync()).Where(m => m.Rule == "vip_expiry_reminder").OrderBy(m => m.DueAt).ToList();
        Assert.Equal([Instant.FromUtc(2027, 1, 16, 9, 0), Instant.FromUtc(2027, 1, 31, 9, 0), Instant.FromUtc(2027, 2, 8, 9, 0)],
            reminders.Select(m => m.DueAt));

        var before = App.Providers.Requests.Count;
        await App.AdvanceAndSettleAsync(Instant.FromUtc(2027, 1, 16, 9, 0) - App.Clock.GetCurrentInstant());
        var first = Assert.Single(App.Providers.Requests.Skip(before), r => System.Net.WebUtility.UrlDecode(r.BodyText).Contains("VIP membership"));
        Assert.Contains("2027-02-15", Uri.UnescapeDataString(first.BodyText));

        await App.TrackAndSettleAsync("/v1/track", Track("vip_renewed"));
        await App.AdvanceAndSettleAsync(Instant.FromUtc(2027, 1, 31, 9, 0) - App.Clock.GetCurrentInstant());

        var second = Assert.Single(await App.MessagesAsync(), m => m.DueAt == Instant.FromUtc(2027, 1, 31, 9, 0));
        Assert.Equal(ScheduledMessageStatus.Cancelled, second.Status);
        Assert.Contains("vip_renewed", second.Reason);
    }

    /// <summary>The SMTP server is shared by the collection's tests: a mail is this test's when it carries the message id.</summary>
    static bool IsMessage(ReceivedMail mail, Guid messageId) =>
        mail.Message.Headers["X-Journeys-Message-Id"] == messageId.ToString();
}
