using System.Text;
using Alba;
using EventSourcedJourneys.Dispatch.Delivery;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using JasperFx.Core;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Delivery;

/// <summary>Drives the whole pipeline as the outside world does: rules and templates through the API, events
/// through the Segment-compatible tracking API, time through the FakeClock.</summary>
public static class DeliveryScenario
{
    public static async Task PublishDocumentAsync(this AppFixture app, string document)
    {
        var saved = await app.SendAsync(HttpMethod.Put, "/rules", new { text = document }, 200);
        foreach (var rule in saved.GetProperty("rules").EnumerateArray())
            await app.PublishAsync(rule.GetProperty("name").GetString()!);
    }

    public static async Task SaveTemplateAsync(this AppFixture app, string name, Channel channel, string body, string? subject = null,
        string? title = null)
    {
        var store = app.Host.Services.GetRequiredService<IDocumentStore>();
        await using var session = store.LightweightSession("acme");
        session.Store(new MessageTemplate(MessageTemplate.IdFor(name, channel), name, channel, subject, body, null, title, null, 1,
            new string('0', 64), app.Clock.GetCurrentInstant()));
        await session.SaveChangesAsync();
    }

    /// <summary>Posts a tracking call with the workspace's write key, as Segment's SDKs do (HTTP Basic).</summary>
    public static async Task TrackAsync(this AppFixture app, string path, object call)
    {
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{app.Acme.WriteKey}:"));
        await app.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Basic {basic}");
            s.Post.Json(call).ToUrl(path);
            s.StatusCodeShouldBe(200);
        });
    }

    /// <summary>
    /// Tracks a call and waits until the app has settled: the engine's subscription has passed the call (relaying it to the
    /// contact's lane only when a live rule can react to it), and every message that started is handled, its decisions
    /// committed (<see cref="AppFixture.WaitUntilSettledAsync()"/>). Waiting for a message type instead cannot work: an
    /// event no rule names is never relayed, and a wait for a type can be completed by an earlier step's message.
    /// </summary>
    public static async Task TrackAndSettleAsync(this AppFixture app, string path, object call)
    {
        await app.TrackAsync(path, call);
        await app.WaitUntilSettledAsync();
    }

    /// <summary>Moves time on and waits until every message that fell due is decided (and delivered, when cleared).</summary>
    public static async Task AdvanceAndSettleAsync(this AppFixture app, Duration by)
    {
        await app.AdvanceClockAsync(by);
        await app.WaitUntilSettledAsync();
    }

    public static async Task<IReadOnlyList<ScheduledMessage>> MessagesAsync(this AppFixture app)
    {
        await using var session = app.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        return await session.Query<ScheduledMessage>().ToListAsync();
    }

    public static async Task<IReadOnlyList<object>> DecisionsAsync(this AppFixture app, Guid contactId)
    {
        await using var session = app.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        return (await session.Events.FetchStreamAsync(contactId)).Select(e => e.Data).Where(d => d is IMessageEvent).ToList();
    }

    public static string At(Instant instant) => instant.ToString();
}
