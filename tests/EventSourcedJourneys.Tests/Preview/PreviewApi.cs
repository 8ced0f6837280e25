using System.Text.Json;
using EventSourcedJourneys.Dispatch.Preview;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using JasperFx.Core;
using NodaTime;
using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Preview;

/// <summary>Drives <c>POST /rules/preview</c> and <c>GET /rules/previews/{id}</c> as a marketer's tool would.</summary>
public static class PreviewApi
{
    public static Task<JsonElement> RequestPreviewAsync(this AppFixture app, string text, Instant from, Instant to, int expectedStatus,
        string? key = null) =>
        app.SendAsync(HttpMethod.Post, "/rules/preview", new { text, from = from.ToString(), to = to.ToString() }, expectedStatus, key);

    /// <summary>Requests a preview and waits for its background run to finish; answers the finished preview.</summary>
    public static async Task<JsonElement> PreviewAsync(this AppFixture app, string text, Instant from, Instant to, string? key = null)
    {
        JsonElement accepted = default;
        await app.Host.TrackActivity().Timeout(60.Seconds())
            .WaitForCondition(new WaitForHandled<RunRulePreview>())
            .ExecuteAndWaitAsync((Func<Wolverine.IMessageContext, Task>)(async _ => accepted = await app.RequestPreviewAsync(text, from, to, 202, key)));
        Assert.Equal("queued", accepted.GetProperty("status").GetString());
        return await app.SendAsync(HttpMethod.Get, $"/rules/previews/{accepted.GetProperty("id").GetGuid()}", null, 200, key);
    }

    public static int Count(this JsonElement counts, string name) => counts.GetProperty(name).GetInt32();

    public static int Suppressed(this JsonElement counts, string reason) =>
        counts.GetProperty("suppressed").TryGetProperty(reason, out var n) ? n.GetInt32() : 0;

    public static IReadOnlyList<JsonElement> Sample(this JsonElement result, string outcome) =>
        result.GetProperty("samples").TryGetProperty(outcome, out var list) ? list.EnumerateArray().ToList() : [];
}

/// <summary>A tracked-session condition: done once every listed message type was handled successfully that many times.</summary>
public sealed class WaitForHandledTimes(params (Type Type, int Times)[] expected) : ITrackedCondition
{
    private readonly Dictionary<Type, int> _handled = new();

    public void Record(EnvelopeRecord record)
    {
        if (record.MessageEventType != MessageEventType.MessageSucceeded) return;
        var message = record.Message is JasperFx.Events.IEvent e ? e.Data : record.Message;
        if (message is null) return;
        _handled[message.GetType()] = _handled.GetValueOrDefault(message.GetType()) + 1;
    }

    public bool IsCompleted() => expected.All(x => _handled.GetValueOrDefault(x.Type) >= x.Times);
}
