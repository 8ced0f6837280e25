using System.Security.Cryptography;
using System.Text;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Delivery;

public sealed class when_a_trigger_calls_a_webhook(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task the_workspace_endpoint_receives_a_signed_envelope_once()
    {
        var workspace = await App.SendAsync(HttpMethod.Put, "/workspace", new { webhookUrl = App.Providers.BaseUrl + "/hooks/journeys" }, 200);
        var secret = workspace.GetProperty("issuedWebhookSecret").GetString()!;
        Assert.True((await App.GetAsync("/workspace")).GetProperty("hasWebhookSecret").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await App.GetAsync("/workspace")).GetProperty("issuedWebhookSecret").ValueKind);

        await App.PublishDocumentAsync("""
            trigger order_to_crm
                on event "order_completed"
                transactional
                send webhook "order-to-crm"
            """);
        await App.SaveTemplateAsync("order-to-crm", Channel.Webhook, "{\"order\": \"{{ properties.order_id }}\"}");
        var before = App.Providers.Requests.Count;

        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "bo", @event = "order_completed", properties = new { order_id = "B-7" }, timestamp = At(App.Clock.GetCurrentInstant()),
        });

        // The receiver is shared by the collection: look only at this workspace's webhook path.
        var hook = Assert.Single(App.Providers.Requests.Skip(before), r => r.Path == "/hooks/journeys");
        Assert.Equal("/hooks/journeys", hook.Path);
        var message = Assert.Single(await App.MessagesAsync());
        Assert.Equal(ScheduledMessageStatus.Sent, message.Status);
        Assert.Equal($"msg_{message.Id:N}", hook.Header("Idempotency-Key"));
        var expected = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret),
            Encoding.UTF8.GetBytes(hook.Header("X-Journeys-Timestamp") + "." + hook.BodyText))).ToLowerInvariant();
        Assert.Equal($"sha256={expected}", hook.Header("X-Journeys-Signature"));
        Assert.Contains("B-7", hook.BodyText);
    }

    [Fact]
    public async Task without_a_workspace_endpoint_it_is_suppressed_for_want_of_an_address()
    {
        await App.PublishDocumentAsync("""
            trigger order_to_crm
                on event "order_completed"
                transactional
                send webhook "order-to-crm"
            """);

        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "bo", @event = "order_completed", properties = new { order_id = "B-8" }, timestamp = At(App.Clock.GetCurrentInstant()),
        });

        var message = Assert.Single(await App.MessagesAsync());
        Assert.Equal(ScheduledMessageStatus.Suppressed, message.Status);
        Assert.Contains("no webhook address", message.Reason);
    }
}
