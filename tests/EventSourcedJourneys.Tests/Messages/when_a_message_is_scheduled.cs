using Alba;
using EventSourcedJourneys.Api.Messages;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using JasperFx.Core;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Messages;

/// <summary>
/// The first vertical slice: HTTP appends MessageScheduled to the contact's stream, the event reaches a Wolverine
/// handler through Marten's subscription, a durable delayed MessageDue fires after the wait and appends
/// the delivery decision (here: no address, so suppressed), and the ScheduledMessage projection shows both.
/// </summary>
public sealed class when_a_message_is_scheduled(AppFixture app) : IntegrationTest(app)
{
    private static readonly Guid Contact = Guid.Parse("0195a6c1-0000-7000-8000-000000000001");

    private async Task<MessageAccepted> ScheduleAsync(string key, string delay = "PT30M")
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.Post.Json(new { channel = "email", template = "cart-reminder", delay }).ToUrl($"/contacts/{Contact}/messages");
            s.StatusCodeShouldBe(201);
        });
        return (await result.ReadAsJsonAsync<MessageAccepted>())!;
    }

    private async Task<ScheduledMessage?> ReadAsync(string key, Guid messageId)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.Get.Url($"/messages/{messageId}");
            s.StatusCodeShouldBe(200);
        });
        return await result.ReadAsJsonAsync<ScheduledMessage>();
    }

    [Fact]
    public async Task it_is_recorded_on_the_contacts_stream_and_waits()
    {
        MessageAccepted accepted = null!;
        async Task Schedule() => accepted = await ScheduleAsync(App.Acme.ApiKey);
        // The engine's subscription reads MessageScheduled and stores the durable, delayed MessageDue.
        var tracked = await App.Host.TrackActivity().Timeout(30.Seconds())
            .WaitForCondition(new WaitForSent<MessageDue>())
            .ExecuteAndWaitAsync(_ => Schedule());

        Assert.Equal(AppFixture.Start + Duration.FromMinutes(30), accepted.DueAt);
        var message = await ReadAsync(App.Acme.ApiKey, accepted.MessageId);
        Assert.Equal(ScheduledMessageStatus.Scheduled, message!.Status);
        Assert.Equal(Channel.Email, message.Channel);

        await using var session = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        var events = await session.Events.FetchStreamAsync(Contact);
        var scheduled = Assert.IsType<MessageScheduled>(Assert.Single(events).Data);
        Assert.Equal(AppFixture.Start, Instant.FromDateTimeOffset(events[0].Timestamp));
        Assert.Equal(accepted.MessageId, scheduled.MessageId);
        Assert.Contains(tracked.AllRecordsInOrder(), r => r.Message is MessageDue && r.Envelope?.ScheduledTime is not null);
    }

    [Fact]
    public async Task when_the_wait_is_over_it_is_decided_and_the_projection_shows_both_steps()
    {
        MessageAccepted accepted = null!;
        async Task Schedule() => accepted = await ScheduleAsync(App.Acme.ApiKey);
        await App.Host.TrackActivity().Timeout(30.Seconds())
            .WaitForCondition(new WaitForSent<MessageDue>())
            .ExecuteAndWaitAsync(_ => Schedule());

        // The durable delayed MessageDue fires once the (fake) half hour has passed; Wolverine's tracking sees it handled,
        // its decision committed.
        var fired = await App.Host.TrackActivity().Timeout(30.Seconds())
            .WaitForCondition(new WaitForHandled<MessageDue>(due => due.MessageId == accepted.MessageId))
            .ExecuteAndWaitAsync(_ => App.AdvanceClockAsync(Duration.FromMinutes(30)));
        Assert.Contains(fired.AllRecordsInOrder(), r => r.Message is MessageDue && r.MessageEventType == MessageEventType.MessageSucceeded);

        var message = await ReadAsync(App.Acme.ApiKey, accepted.MessageId);
        Assert.Equal(ScheduledMessageStatus.Suppressed, message!.Status);
        Assert.Equal(AppFixture.Start, message.ScheduledAt);
        Assert.Equal(AppFixture.Start + Duration.FromMinutes(30), message.UpdatedAt);
        Assert.Contains("no email address", message.Reason);

        await using var session = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        var events = await session.Events.FetchStreamAsync(Contact);
        Assert.Collection(events,
            e => Assert.IsType<MessageScheduled>(e.Data),
            e => Assert.Equal(SuppressionReason.MissingAddress, Assert.IsType<MessageSuppressed>(e.Data).Reason));
    }

    [Fact]
    public async Task it_does_not_become_due_before_its_time()
    {
        MessageAccepted accepted = null!;
        async Task Schedule() => accepted = await ScheduleAsync(App.Acme.ApiKey);
        await Schedule();
        await App.WaitUntilSettledAsync();

        var tracked = await App.Host.TrackActivity().Timeout(30.Seconds())
            .ExecuteAndWaitAsync(_ => App.AdvanceClockAsync(Duration.FromMinutes(29)));

        Assert.DoesNotContain(tracked.AllRecordsInOrder(), r => r.Message is MessageDue && r.MessageEventType == MessageEventType.ExecutionFinished);
        Assert.Equal(ScheduledMessageStatus.Scheduled, (await ReadAsync(App.Acme.ApiKey, accepted.MessageId))!.Status);
    }

    [Fact]
    public async Task another_workspace_cannot_see_it()
    {
        var accepted = await ScheduleAsync(App.Acme.ApiKey);

        await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Globex.ApiKey}");
            s.Get.Url($"/messages/{accepted.MessageId}");
            s.StatusCodeShouldBe(404);
        });
        await using var session = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("globex");
        Assert.Empty(await session.Events.FetchStreamAsync(Contact));
    }
}
