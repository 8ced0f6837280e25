using System.Text.Json;
using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using JasperFx.Core;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Tracking;

namespace EventSourcedJourneys.Tests.Segments;

/// <summary>Publishing segments and reading memberships as a marketer's tool and an analyst would.</summary>
public static class SegmentsScenario
{
    /// <summary>Publishes the rules and waits until every published segment is built (the rebuild publishing starts,
    /// and the reviews it plans for contacts with newer events).</summary>
    public static async Task PublishSegmentsAsync(this AppFixture app, string document)
    {
        await app.PublishDocumentAsync(document);
        await app.RebuildStaleSegmentsAsync();
    }

    public static Task<ITrackedSession> RebuildStaleSegmentsAsync(this AppFixture app) =>
        app.Host.TrackActivity().Timeout(120.Seconds()).InvokeMessageAndWaitAsync(new RebuildStaleSegments("acme"));

    public static async Task<IReadOnlyList<ISegmentEvent>> SegmentEventsAsync(this AppFixture app, Guid contactId)
    {
        await using var session = app.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        return (await session.Events.FetchStreamAsync(contactId)).Select(e => e.Data).OfType<ISegmentEvent>().ToList();
    }

    public static async Task<IReadOnlyList<string>> SegmentsOfAsync(this AppFixture app, Guid contactId) =>
        (await app.GetAsync($"/contacts/{contactId}/segments")).EnumerateArray().Select(s => s.GetProperty("segment").GetString()!).ToList();

    public static async Task<JsonElement> SegmentAsync(this AppFixture app, string name) => await app.GetAsync($"/segments/{name}");

    /// <summary>Every member, read page by page through the API.</summary>
    public static async Task<IReadOnlyList<Guid>> MembersAsync(this AppFixture app, string segment, int pageSize = 100)
    {
        var members = new List<Guid>();
        for (var page = 1; ; page++)
        {
            var answer = await app.GetAsync($"/segments/{segment}/members?page={page}&pageSize={pageSize}");
            var items = answer.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("contactId").GetGuid()).ToList();
            members.AddRange(items);
            if (items.Count < pageSize) return members;
        }
    }
}
