using System.Text.Json;
using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using EventSourcedJourneys.Tests.Rules;
using JasperFx.Core;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Wolverine.Tracking;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Segments;

public sealed class when_a_segment_definition_changes(AppFixture app) : IntegrationTest(app)
{
    private IRebuildableProjection Segments => App.Host.Services.GetServices<IRebuildableProjection>().Single(p => p.Name == "segments");

    private Task OrderAsync(string userId, decimal total, Duration ago) =>
        App.TrackAndSettleAsync("/v1/track", new
        {
            userId, @event = "order_completed", properties = new { total }, timestamp = At(App.Clock.GetCurrentInstant() - ago),
        });

    /// <summary>Runs a callback inside the rebuild, where it reports progress (before the new membership replaces the old).</summary>
    private sealed class DuringRebuild(Action<RebuildProgress> callback) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => callback(value);
    }

    [Fact]
    public async Task it_is_stale_and_served_from_the_old_membership_until_the_rebuild_replaces_it()
    {
        await App.PublishSegmentsAsync("segment buyers = count(event \"order_completed\" ever) >= 1");
        await OrderAsync("ann", 50, Duration.FromDays(3));
        await OrderAsync("ben", 50, Duration.FromDays(3));
        await OrderAsync("ben", 70, Duration.FromDays(1));
        Assert.Equal(2, (await App.SegmentAsync("buyers")).GetProperty("size").GetInt64());

        // While a rebuild runs, the marketer publishes a stricter definition: the segment is stale, and reads keep
        // serving the membership built from version 1.
        JsonElement during = default;
        RebuildProgress? reported = null;
        var progress = new DuringRebuild(p =>
        {
            reported = p;
            if (during.ValueKind != JsonValueKind.Undefined) return;
            App.SaveRuleAsync("buyers", "segment buyers = count(event \"order_completed\" ever) >= 2", expectedStatus: 201).GetAwaiter().GetResult();
            App.PublishAsync("buyers").GetAwaiter().GetResult();
            during = App.SegmentAsync("buyers").GetAwaiter().GetResult();
        });
        await App.Host.TrackActivity().Timeout(120.Seconds())
            .WaitForCondition(new WaitForHandled<RebuildStaleSegments>())
            .ExecuteAndWaitAsync(_ => Segments.RebuildAsync(progress, CancellationToken.None));

        Assert.True(during.GetProperty("stale").GetBoolean());
        Assert.True(during.GetProperty("rebuilding").GetBoolean());
        Assert.Equal(2, during.GetProperty("version").GetInt32());
        Assert.Equal(1, during.GetProperty("builtFrom").GetProperty("version").GetInt32());
        Assert.Equal(2, during.GetProperty("size").GetInt64());
        Assert.Equal(new RebuildProgress(2, 2, "contacts"), reported);

        // The publication's own rebuild then replaced it with the new definition's membership.
        var after = await App.SegmentAsync("buyers");
        Assert.False(after.GetProperty("stale").GetBoolean());
        Assert.False(after.GetProperty("rebuilding").GetBoolean());
        Assert.Equal(2, after.GetProperty("builtFrom").GetProperty("version").GetInt32());
        Assert.Equal(after.GetProperty("contentHash").GetString(), after.GetProperty("builtFrom").GetProperty("contentHash").GetString());
        Assert.Equal(1, after.GetProperty("size").GetInt64());
        Assert.Equal([Guid.Parse((await App.ContactOfUserAsync("ben")).Id())], await App.MembersAsync("buyers"));
        Assert.Equal([("2026-12-01", 1L)],
            after.GetProperty("sizeHistory").EnumerateArray().Select(d => (d.GetProperty("day").GetString(), d.GetProperty("size").GetInt64())));
    }

    [Fact]
    public async Task a_new_version_of_a_referenced_segment_makes_the_segments_built_on_it_stale_and_rebuilds_them()
    {
        await App.PublishSegmentsAsync("""
            segment buyers = count(event "order_completed" ever) >= 1

            segment big_buyers = segment buyers and sum(properties.total of event "order_completed" ever) >= 100
            """);
        await OrderAsync("ann", 120, Duration.FromDays(3));
        var before = await App.SegmentAsync("big_buyers");
        Assert.Equal(1, before.GetProperty("size").GetInt64());

        await App.SaveRuleAsync("buyers", "segment buyers = count(event \"order_completed\" ever) >= 2", expectedStatus: 201);
        await App.Host.TrackActivity().Timeout(120.Seconds())
            .WaitForCondition(new WaitForHandled<RebuildStaleSegments>())
            .ExecuteAndWaitAsync(_ => App.PublishAsync("buyers"));
        await App.RebuildStaleSegmentsAsync();

        var after = await App.SegmentAsync("big_buyers");
        Assert.Equal(1, after.GetProperty("version").GetInt32());
        Assert.NotEqual(before.GetProperty("contentHash").GetString(), after.GetProperty("contentHash").GetString());
        Assert.Equal(2, after.GetProperty("referencedVersions").GetProperty("buyers").GetInt32());
        Assert.Equal(2, after.GetProperty("builtFrom").GetProperty("referencedVersions").GetProperty("buyers").GetInt32());
        Assert.False(after.GetProperty("stale").GetBoolean());
        Assert.Equal(0, after.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task live_membership_equals_membership_rebuilt_from_scratch()
    {
        string[] segments = ["big_spenders", "buyers", "gold", "gold_buyers", "lurkers", "paris"];
        await App.PublishSegmentsAsync("""
            segment buyers = count(event "order_completed" in last 45d) >= 1

            segment big_spenders = sum(properties.total of event "order_completed" ever) >= 200

            segment gold = traits.plan = "gold"

            segment gold_buyers = segment gold and segment buyers

            segment lurkers = not event "order_completed" ever and count(event "page" in last 30d) >= 2

            segment paris = event "order_completed" where context.city = "Paris" in last 60d
            """);

        // A few hundred contacts with a seeded mix of profiles, orders at various ages, page views; sent as Segment batches.
        var random = new Random(7);
        var now = App.Clock.GetCurrentInstant();
        var calls = new List<object>();
        for (var i = 0; i < 300; i++)
        {
            var user = $"c{i:D3}";
            calls.Add(new { type = "identify", userId = user, traits = new { plan = random.Next(3) == 0 ? "gold" : "free" }, timestamp = At(now - Duration.FromDays(100)) });
            for (var o = random.Next(4); o > 0; o--)
                calls.Add(new { type = "track", userId = user, @event = "order_completed", properties = new { total = random.Next(10, 150) },
                    context = new { city = random.Next(4) == 0 ? "Paris" : "Lyon" }, timestamp = At(now - Duration.FromDays(random.Next(0, 90))) });
            for (var p = random.Next(4); p > 0; p--)
                calls.Add(new { type = "page", userId = user, name = "home", timestamp = At(now - Duration.FromDays(random.Next(0, 40))) });
        }
        foreach (var batch in calls.Chunk(100)) await App.PostCallAsync("/v1/batch", new { batch });
        await App.WaitUntilSettledAsync();

        var live = new Dictionary<string, IReadOnlyList<Guid>>();
        foreach (var segment in segments) live[segment] = await App.MembersAsync(segment, pageSize: 1000);

        await Segments.RebuildAsync(new DuringRebuild(_ => { }), CancellationToken.None);

        foreach (var segment in segments)
        {
            var rebuilt = await App.MembersAsync(segment, pageSize: 1000);
            Assert.True(live[segment].Count is > 0 and < 300, $"{segment} has {live[segment].Count} members: the data should split it");
            Assert.Equal(live[segment], rebuilt);
        }
    }
}
