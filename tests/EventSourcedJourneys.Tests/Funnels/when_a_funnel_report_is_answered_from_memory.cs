using System.Text.Json;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using JasperFx.Core;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>
/// ADR 0017: the report from the in-memory index equals the report from the tables (ADR 0013, itself checked against the
/// raw events) — over the generated dataset of the raw-events test, for ranges of every shape (partial days at both
/// ends, bounds on step-1 event times, whole days and months, open ends, empty) and every kind of breakdown; after
/// live appends the index applied as changes (late events, merges, new contacts), and after a rebuild.
/// </summary>
public sealed class when_a_funnel_report_is_answered_from_memory(AppFixture app) : IntegrationTest(app)
{
    private static readonly Instant Origin = when_a_funnel_is_checked_against_the_raw_events.Origin;
    private static readonly JsonSerializerOptions Json = JourneysJson.Create();

    [Fact]
    public async Task it_equals_the_report_from_the_tables_after_live_appends_and_after_a_rebuild()
    {
        await App.PublishFunnelAsync("checkout", when_a_funnel_is_checked_against_the_raw_events.Funnel);
        var calls = when_a_funnel_is_checked_against_the_raw_events.Generate(new Random(20261125));
        var first = calls.Count * 2 / 3;
        foreach (var batch in calls.Take(first).Chunk(200))
            await App.PostCallAsync("/v1/batch", JsonSerializer.Serialize(new { batch }));
        await when_a_funnel_is_checked_against_the_raw_events.AppendCampaignMessagesAsync(App, new Random(7));
        var store = App.Host.DocumentStore();
        await store.WaitForNonStaleProjectionDataAsync(180.Seconds());
        var indexes = App.Host.Services.GetRequiredService<FunnelIndexes>();

        await AssertSameAsync(store, indexes);
        var loaded = indexes.Describe().Single(d => d.Tenant == "acme" && d.Funnel == "checkout");
        Assert.True(loaded.Chains > 1000, "the index should hold the dataset's chains");

        // Live appends: the rest of the calls (out of event-time order, and the identifies that merge anonymous histories).
        foreach (var batch in calls.Skip(first).Chunk(200))
            await App.PostCallAsync("/v1/batch", JsonSerializer.Serialize(new { batch }));
        await store.WaitForNonStaleProjectionDataAsync(180.Seconds());
        await AssertSameAsync(store, indexes);
        var caughtUp = indexes.Describe().Single(d => d.Tenant == "acme" && d.Funnel == "checkout");
        Assert.True(caughtUp.Version > loaded.Version, "the live writes should have moved the generation's version");
        Assert.True(caughtUp.Overlay > 0, "the index should have applied the live changes rather than reloaded");
        Assert.Equal(loaded.Chains, caughtUp.Chains);

        // Traits and campaign messages change without the funnel changing: new plans for some users, a first
        // "welcome" message for others (earlier than some of their step-1 events), and a trait breakdown must follow.
        var plans = Enumerable.Range(0, when_a_funnel_is_checked_against_the_raw_events.Contacts).Where(c => c % 5 == 1)
            .Select(c => (object)new { type = "identify", userId = $"u-{c}", traits = new { plan = "enterprise" },
                timestamp = "2026-12-01T00:00:00Z", messageId = $"plan-{c}" }).ToList();
        foreach (var batch in plans.Chunk(200))
            await App.PostCallAsync("/v1/batch", JsonSerializer.Serialize(new { batch }));
        await when_a_funnel_is_checked_against_the_raw_events.AppendCampaignMessagesAsync(App, new Random(8), offset: 1);
        await store.WaitForNonStaleProjectionDataAsync(180.Seconds());
        await AssertSameAsync(store, indexes);

        var rebuild = App.Host.Services.GetServices<IRebuildableProjection>().Single(p => p.Name == "funnels");
        await rebuild.RebuildAsync(new Progress<RebuildProgress>(_ => { }), CancellationToken.None);
        await AssertSameAsync(store, indexes);
        var rebuilt = indexes.Describe().Single(d => d.Tenant == "acme" && d.Funnel == "checkout");
        Assert.Equal(0, rebuilt.Overlay);
    }

    private static async Task AssertSameAsync(IDocumentStore store, FunnelIndexes indexes)
    {
        FunnelDefinition definition;
        await using (var session = store.QuerySession("acme"))
            definition = (await session.LoadAsync<FunnelDefinition>("checkout"))!;
        FunnelBreakdown?[] breakdowns =
        [
            null,
            new(FunnelBreakdownKind.Property, "source"),
            new(FunnelBreakdownKind.Property, "total"),
            new(FunnelBreakdownKind.Trait, "plan"),
            new(FunnelBreakdownKind.Trait, "unknown"),
            new(FunnelBreakdownKind.Campaign, "welcome"),
        ];
        var compared = 0;
        foreach (var (from, to) in Ranges())
        {
            foreach (var breakdown in breakdowns)
            {
                var expected = await FunnelReports.ComputeAsync(store, "acme", definition, from, to, breakdown, CancellationToken.None);
                var actual = await indexes.ComputeFromMemoryAsync(store, "acme", definition, from, to, breakdown, CancellationToken.None);
                Assert.Equal(JsonSerializer.Serialize(expected, Json), JsonSerializer.Serialize(actual, Json));
                if (expected.Steps[0].Contacts > 0) compared++;
            }
        }
        Assert.True(compared > 40, "most ranges should hold contacts");
    }

    /// <summary>Whole days, a month, open ends, no bounds, an empty range, partial days at both ends, and bounds on the
    /// dataset's grid of event times (every 30 minutes: a bound equal to a step-1 event's time).</summary>
    private static IEnumerable<(Instant?, Instant?)> Ranges()
    {
        yield return (null, null);
        yield return (Origin + Duration.FromDays(4), Origin + Duration.FromDays(14));
        yield return (Origin, Origin + Duration.FromDays(31));
        yield return (Origin + Duration.FromHours(55.5), Origin + Duration.FromDays(19) + Duration.FromHours(13.25));
        yield return (null, Origin + Duration.FromDays(11.5));
        yield return (Origin + Duration.FromDays(8.75), null);
        yield return (Origin - Duration.FromDays(30), Origin - Duration.FromDays(1));
        var random = new Random(17);
        for (var i = 0; i < 8; i++)
        {
            var start = Origin + Duration.FromMinutes(random.Next(0, 26 * 48) * 30);
            yield return (start, start + Duration.FromMinutes(random.Next(1, 10 * 48) * 30 + (i % 2) * 7));
        }
    }
}
