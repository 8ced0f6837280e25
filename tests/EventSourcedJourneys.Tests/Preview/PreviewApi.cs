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
