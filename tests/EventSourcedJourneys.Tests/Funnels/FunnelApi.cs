using System.Text.Json;
using Alba;
using EventSourcedJourneys.Dispatch.Funnels;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using EventSourcedJourneys.Tests.Rules;
using JasperFx.Core;
using Marten;
using Marten.Events;
using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>Drives funnels as a marketer and an analyst do: publish through the rules API, track through the tracking
/// API, read the report; waits on the background rebuild and the async projection, never on the clock.</summary>
public static class FunnelApi
{
    /// <summary>Saves a new version of a funnel, publishes it and waits until its data has been computed from history.</summary>
    public static async Task PublishFunnelAsync(this AppFixture app, string name, string text, string? key = null)
    {
        await app.SendAsync(HttpMethod.Put, $"/rules/{name}", new { text }, 201, key);
        await app.Host.TrackActivity().Timeout(120.Seconds()).IncludeExternalTransports()
            .WaitForCondition(new WaitForHandled<RebuildFunnel>())
            .ExecuteAndWaitAsync(_ => app.SendAsync(HttpMethod.Post, $"/rules/{name}/publish", null, 200, key));
    }

    /// <summary>Posts tracking calls in one batch, in the order given (the arrival order), and waits for the projection.</summary>
    public static async Task TrackBatchAsync(this AppFixture app, params object[] calls)
    {
        await app.PostCallAsync("/v1/batch", JsonSerializer.Serialize(new { batch = calls }));
        await app.Host.DocumentStore().WaitForNonStaleProjectionDataAsync(120.Seconds());
    }

    public static object Track(string user, string name, string at, object? properties = null) =>
        new { type = "track", userId = user, @event = name, timestamp = at, properties = properties ?? new { }, messageId = Guid.NewGuid().ToString() };

    public static Task<JsonElement> ReportAsync(this AppFixture app, string name, string query = "", int expectedStatus = 200) =>
        app.GetAsync($"/funnels/{name}/report{(query.Length > 0 ? "?" + query : "")}", expectedStatus);

    public static long[] Counts(this JsonElement steps) => steps.EnumerateArray().Select(s => s.GetProperty("contacts").GetInt64()).ToArray();
}
