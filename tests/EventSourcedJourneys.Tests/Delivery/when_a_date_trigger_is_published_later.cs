using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Tests.Infrastructure;
using JasperFx.Core;
using NodaTime;
using Wolverine.Tracking;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Delivery;

public sealed class when_a_date_trigger_is_published_later(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task contacts_who_already_have_the_date_get_their_reminders()
    {
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "ana", traits = new { vip_expires_at = "2027-02-15", phone = "+33612345678" },
            context = new { timezone = "Europe/Paris" }, timestamp = At(App.Clock.GetCurrentInstant()),
        });
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "bo", traits = new { plan = "basic" }, timestamp = At(App.Clock.GetCurrentInstant()),
        });

        await App.PublishDocumentAsync("""
            trigger vip_expiry_reminder
                on date traits.vip_expires_at minus 30d, 15d, 7d at 10:00 local
                send sms "vip-expiry"
            """);
        // The publication is relayed; each contact's reminders are planned in its lane.
        await App.WaitUntilSettledAsync();

        var reminders = (await App.MessagesAsync()).OrderBy(m => m.DueAt).ToList();
        Assert.Equal([Instant.FromUtc(2027, 1, 16, 9, 0), Instant.FromUtc(2027, 1, 31, 9, 0), Instant.FromUtc(2027, 2, 8, 9, 0)],
            reminders.Select(m => m.DueAt));
        Assert.Single(reminders.Select(m => m.ContactId).Distinct());
    }
}
