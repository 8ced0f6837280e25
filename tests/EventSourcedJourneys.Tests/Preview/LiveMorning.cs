using EventSourcedJourneys.Dispatch.Delivery;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using JasperFx.Core;
using NodaTime;
using Wolverine.Tracking;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Preview;

/// <summary>A morning of the live engine: one published trigger and every outcome it can have, driven through the API.</summary>
public static class LiveMorning
{
    public const string Rules = """
        segment engaged =
            count(event "app_opened" in last 30d) >= 1

        trigger cart_reminder
            on event "cart_updated" where properties.total > 100
            wait 30m
            cancel if event "order_completed"
            audience segment engaged
            send email "cart-reminder"
            send between 09:00 and 21:00 local

        policy frequency cap 1 per 1d
        """;

    public static readonly Instant From = AppFixture.Start;
    public static readonly Instant To = AppFixture.Start + Duration.FromDays(1);

    /// <summary>
    /// 08:00 UTC (09:00 in Paris, 03:00 in New York): ana, ben, cat, dan, eve and fay put more than $100 in their carts,
    /// gus $90; ana again at 08:05; ben orders at 08:10. At 08:30 ana's reminder goes, ben's is cancelled, cat has no
    /// email, dan never opened the app, eve unsubscribed from email, fay's is held to 09:00 in New York (14:00 UTC) and
    /// goes then; ana's second is capped at 08:35.
    /// </summary>
    public static async Task RunAsync(AppFixture app)
    {
        await app.PublishDocumentAsync(Rules);
        await app.SaveTemplateAsync("cart-reminder", Channel.Email, "Your cart is waiting.", subject: "Your cart");

        var now = At(app.Clock.GetCurrentInstant());
        async Task Person(string user, string? email, string zone, bool opened, bool unsubscribed = false)
        {
            object traits = unsubscribed
                ? new { email, subscriptions = new Dictionary<string, string> { ["email"] = "unsubscribed" } }
                : email is null ? new { first_name = user } : new { email };
            await app.TrackAndSettleAsync("/v1/identify", new { userId = user, traits, context = new { timezone = zone }, timestamp = now });
            if (opened)
                await app.TrackAndSettleAsync("/v1/track", new { userId = user, @event = "app_opened", properties = new { }, timestamp = now });
        }
        await Person("ana", "ana@example.com", "Europe/Paris", opened: true);
        await Person("ben", "ben@example.com", "Europe/Paris", opened: true);
        await Person("cat", null, "Europe/Paris", opened: true);
        await Person("dan", "dan@example.com", "Europe/Paris", opened: false);
        await Person("eve", "eve@example.com", "Europe/Paris", opened: true, unsubscribed: true);
        await Person("fay", "fay@example.com", "America/New_York", opened: true);
        await Person("gus", "gus@example.com", "Europe/Paris", opened: true);

        object Cart(string user, int total) => new
        {
            userId = user, @event = "cart_updated", properties = new { total }, timestamp = At(app.Clock.GetCurrentInstant()),
        };
        foreach (var user in new[] { "ana", "ben", "cat", "dan", "eve", "fay" })
            await app.TrackAndSettleAsync("/v1/track", Cart(user, 150));
        await app.TrackAndSettleAsync("/v1/track", Cart("gus", 90));

        await app.AdvanceClockAsync(Duration.FromMinutes(5));
        await app.TrackAndSettleAsync("/v1/track", Cart("ana", 120));
        await app.AdvanceClockAsync(Duration.FromMinutes(5));
        await app.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ben", @event = "order_completed", properties = new { total = 150 }, timestamp = At(app.Clock.GetCurrentInstant()),
        });

        await app.AdvanceAndSettleAsync(Duration.FromMinutes(20));
        await app.AdvanceAndSettleAsync(Duration.FromMinutes(5));
        await app.AdvanceAndSettleAsync(Instant.FromUtc(2026, 12, 1, 14, 0) - app.Clock.GetCurrentInstant());
    }
}
