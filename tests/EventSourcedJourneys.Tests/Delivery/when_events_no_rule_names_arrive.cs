using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Tests.Infrastructure;
using Npgsql;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Delivery;

/// <summary>The engine's subscription hands a contact's lane only what a live rule of its workspace can react to
/// (ADR 0018): ingestion's other events cost no durable message.</summary>
public sealed class when_events_no_rule_names_arrive(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task only_the_events_a_live_rule_names_are_relayed_to_the_contacts_lane()
    {
        await App.PublishDocumentAsync("""
            trigger welcome_back
                on event "app_opened"
                send inapp "welcome-back"
            """);
        await App.SaveTemplateAsync("welcome-back", Channel.InApp, "Hi!", title: "Welcome back");

        await App.TrackAndSettleAsync("/v1/track", new { userId = "ana", @event = "app_opened", timestamp = At(App.Clock.GetCurrentInstant()) });
        await App.TrackAndSettleAsync("/v1/track", new { userId = "ana", @event = "product_viewed", timestamp = At(App.Clock.GetCurrentInstant()) });
        await App.TrackAndSettleAsync("/v1/page", new { userId = "ana", name = "Home", timestamp = At(App.Clock.GetCurrentInstant()) });
        // No date trigger and no segment is live: a change of traits is nothing the engine reacts to either.
        await App.TrackAndSettleAsync("/v1/identify", new { userId = "ana", traits = new { plan = "pro" }, timestamp = At(App.Clock.GetCurrentInstant()) });

        Assert.Equal(1, await EnvelopesAsync(typeof(EvaluateContactEvent)));
        // The message due at once was decided in the evaluation: its scheduling is not relayed again, only its delivery.
        Assert.Equal(1, await EnvelopesAsync(typeof(EventSourcedJourneys.Dispatch.Scheduling.DeliverMessage)));
        Assert.Equal(0, await EnvelopesAsync(typeof(MessageScheduled)));
        Assert.Equal(EventSourcedJourneys.Projections.Messages.ScheduledMessageStatus.Sent, Assert.Single(await App.MessagesAsync()).Status);
    }

    /// <summary>Wolverine keeps handled envelopes for a while (to drop redeliveries): count them by message type.</summary>
    private async Task<long> EnvelopesAsync(Type messageType)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select count(*) from journeys.wolverine_incoming_envelopes where message_type = @type", connection);
        command.Parameters.AddWithValue("type", messageType.FullName!);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
