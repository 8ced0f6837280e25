using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using EventSourcedJourneys.Tests.Rules;
using static EventSourcedJourneys.Tests.Funnels.FunnelApi;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>The funnel report as an analyst sees it, with the semantics of docs/semantics.md ("Funnels").</summary>
public sealed class when_an_analyst_reads_a_funnel(AppFixture app) : IntegrationTest(app)
{
    private const string Checkout = """
        funnel checkout = event "viewed" -> event "cart" -> event "order" within 1d
        """;

    [Fact]
    public async Task each_contact_counts_once_at_its_deepest_chain_with_the_times_of_that_chain()
    {
        await App.PublishFunnelAsync("checkout", Checkout);
        await App.TrackBatchAsync(
            // ada: a first visit that goes nowhere, then one that converts: depth 3, times from the converting chain.
            Track("ada", "viewed", "2026-11-10T09:00:00Z"),
            Track("ada", "viewed", "2026-11-12T10:00:00Z"),
            Track("ada", "cart", "2026-11-12T10:10:00Z"),
            Track("ada", "order", "2026-11-12T11:10:00Z"),
            // bob: cart and order, but the order comes after the window of one day.
            Track("bob", "viewed", "2026-11-12T10:00:00Z"),
            Track("bob", "cart", "2026-11-12T10:30:00Z"),
            Track("bob", "order", "2026-11-13T10:00:01Z"),
            // cy: an order before any cart does not count; cy reaches step 1 only.
            Track("cy", "order", "2026-11-12T09:00:00Z"),
            Track("cy", "viewed", "2026-11-12T10:00:00Z"));

        var report = await App.ReportAsync("checkout");
        var steps = report.GetProperty("steps");
        Assert.Equal([3L, 2L, 1L], steps.Counts());
        Assert.Equal(1, report.GetProperty("definitionVersion").GetInt32());
        Assert.Equal("P1D", report.GetProperty("window").GetString());
        Assert.Equal(["viewed", "cart", "order"], steps.EnumerateArray().Select(s => s.GetProperty("event").GetString()));
        Assert.Equal(0.6667, steps[1].GetProperty("conversionFromPrevious").GetDouble());
        Assert.Equal(0.5, steps[2].GetProperty("conversionFromPrevious").GetDouble());
        Assert.Equal(0.3333, steps[2].GetProperty("conversionFromFirst").GetDouble());
        Assert.Equal([0L, 1L, 1L], steps.EnumerateArray().Select(s => s.GetProperty("dropOff").GetInt64()));
        // Step 2 times: ada 10 min, bob 30 min: the median is the lower of the two (nearest rank), p90 the higher.
        Assert.Equal("PT10M", steps[1].GetProperty("medianTimeFromPrevious").GetString());
        Assert.Equal("PT30M", steps[1].GetProperty("p90TimeFromPrevious").GetString());
        Assert.Equal("PT1H", steps[2].GetProperty("medianTimeFromPrevious").GetString());

        // Only step-1 events in the range count: ada's converting visit is outside [11-10, 11-11).
        var early = await App.ReportAsync("checkout", "from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z");
        Assert.Equal([1L, 0L, 0L], early.GetProperty("steps").Counts());
        Assert.Equal("2026-11-10T00:00:00Z", early.GetProperty("from").GetString());
    }

    [Fact]
    public async Task a_late_event_is_placed_by_its_event_time_and_changes_the_chain()
    {
        await App.PublishFunnelAsync("checkout", Checkout);
        await App.TrackBatchAsync(
            Track("dee", "viewed", "2026-11-12T10:00:00Z"),
            Track("dee", "cart", "2026-11-12T11:00:00Z"),
            Track("dee", "order", "2026-11-12T10:50:00Z"));
        // The order happened before the cart: it is not the step after it.
        Assert.Equal(new long[] { 1L, 1L, 0L }, (await App.ReportAsync("checkout")).GetProperty("steps").Counts());

        // A cart from 10:10 arrives late: the chain is now viewed 10:00 → cart 10:10 → order 10:50.
        await App.TrackBatchAsync(Track("dee", "cart", "2026-11-12T10:10:00Z"));
        var steps = (await App.ReportAsync("checkout")).GetProperty("steps");
        Assert.Equal([1L, 1L, 1L], steps.Counts());
        Assert.Equal("PT10M", steps[1].GetProperty("medianTimeFromPrevious").GetString());
        Assert.Equal("PT40M", steps[2].GetProperty("medianTimeFromPrevious").GetString());
    }

    [Fact]
    public async Task two_contacts_merged_into_one_person_count_once_with_their_joint_history()
    {
        await App.PublishFunnelAsync("checkout", Checkout);
        await App.TrackBatchAsync(
            new { type = "track", anonymousId = "phone-1", @event = "viewed", timestamp = "2026-11-12T10:00:00Z", messageId = "m-1" },
            new { type = "track", anonymousId = "phone-1", @event = "cart", timestamp = "2026-11-12T10:05:00Z", messageId = "m-2" },
            Track("eve", "viewed", "2026-11-12T12:00:00Z"),
            Track("eve", "order", "2026-11-12T12:30:00Z"));
        Assert.Equal(new long[] { 2L, 1L, 0L }, (await App.ReportAsync("checkout")).GetProperty("steps").Counts());

        // The phone turns out to be eve's: her order completes the phone's chain, and she is one contact.
        await App.TrackBatchAsync(new { type = "identify", userId = "eve", anonymousId = "phone-1", timestamp = "2026-11-12T13:00:00Z", messageId = "m-3" });
        Assert.Equal(new long[] { 1L, 1L, 1L }, (await App.ReportAsync("checkout")).GetProperty("steps").Counts());
    }

    [Fact]
    public async Task a_new_definition_is_computed_from_history_and_the_report_names_its_version()
    {
        await App.TrackBatchAsync(
            Track("fay", "viewed", "2026-11-12T10:00:00Z"),
            Track("fay", "cart", "2026-11-12T10:05:00Z"),
            Track("fay", "order", "2026-11-12T10:30:00Z"),
            Track("gus", "viewed", "2026-11-12T10:00:00Z"));
        await App.PublishFunnelAsync("checkout", """funnel checkout = event "viewed" -> event "cart" within 1d""");
        var first = await App.ReportAsync("checkout");
        Assert.Equal(1, first.GetProperty("definitionVersion").GetInt32());
        Assert.Equal([2L, 1L], first.GetProperty("steps").Counts());

        await App.PublishFunnelAsync("checkout", Checkout);
        var second = await App.ReportAsync("checkout");
        Assert.Equal(2, second.GetProperty("definitionVersion").GetInt32());
        Assert.Equal([2L, 1L, 1L], second.GetProperty("steps").Counts());

        var listed = Assert.Single((await App.GetAsync("/funnels")).EnumerateArray());
        Assert.Equal("checkout", listed.GetProperty("name").GetString());
        Assert.Equal(2, listed.GetProperty("publishedVersion").GetInt32());
        Assert.Equal(2, listed.GetProperty("computedVersion").GetInt32());
        Assert.Equal(["viewed", "cart", "order"], listed.GetProperty("steps").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task breakdowns_split_contacts_by_trait_first_step_property_and_campaign_exposure()
    {
        await App.PublishFunnelAsync("checkout", Checkout);
        await App.TrackBatchAsync(
            new { type = "identify", userId = "hal", traits = new { plan = "pro" }, timestamp = "2026-11-01T00:00:00Z", messageId = "i-1" },
            new { type = "identify", userId = "ida", traits = new { plan = "free" }, timestamp = "2026-11-01T00:00:00Z", messageId = "i-2" },
            Track("hal", "viewed", "2026-11-12T10:00:00Z", new { source = "ads" }),
            Track("hal", "cart", "2026-11-12T10:05:00Z"),
            Track("ida", "viewed", "2026-11-12T10:00:00Z", new { source = "mail" }),
            Track("jon", "viewed", "2026-11-12T10:00:00Z", new { source = "ads" }));

        var byTrait = (await App.ReportAsync("checkout", "breakdown=trait:plan")).GetProperty("breakdown");
        Assert.Equal("trait:plan", byTrait.GetProperty("by").GetString());
        var groups = byTrait.GetProperty("groups").EnumerateArray()
            .ToDictionary(g => g.GetProperty("value").GetString() ?? "(not set)", g => g.GetProperty("steps").Counts());
        Assert.Equal([1L, 1L, 0L], groups["pro"]);
        Assert.Equal([1L, 0L, 0L], groups["free"]);
        Assert.Equal([1L, 0L, 0L], groups["(not set)"]);

        var byProperty = (await App.ReportAsync("checkout", "breakdown=property:source")).GetProperty("breakdown").GetProperty("groups")
            .EnumerateArray().ToDictionary(g => g.GetProperty("value").GetString()!, g => g.GetProperty("steps").Counts());
        Assert.Equal([2L, 1L, 0L], byProperty["ads"]);
        Assert.Equal([1L, 0L, 0L], byProperty["mail"]);

        var byCampaign = (await App.ReportAsync("checkout", "breakdown=campaign:welcome")).GetProperty("breakdown").GetProperty("groups")
            .EnumerateArray().ToDictionary(g => g.GetProperty("value").GetString()!, g => g.GetProperty("steps").Counts());
        Assert.Equal([3L, 1L, 0L], byCampaign["not exposed"]);
        Assert.False(byCampaign.ContainsKey("exposed"));
    }

    [Fact]
    public async Task wrong_parameters_are_named_and_an_unknown_funnel_is_not_found()
    {
        await App.PublishFunnelAsync("checkout", Checkout);
        var badFrom = await App.ReportAsync("checkout", "from=yesterday", 400);
        Assert.Contains("from", badFrom.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        var badTo = await App.ReportAsync("checkout", "from=2026-11-12T00:00:00Z&to=2026-11-11T00:00:00Z", 400);
        Assert.Contains("to", badTo.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        var badBreakdown = await App.ReportAsync("checkout", "breakdown=country", 400);
        Assert.Contains("trait:NAME", badBreakdown.GetProperty("errors").GetProperty("breakdown")[0].GetString());
        var unknownKind = await App.ReportAsync("checkout", "breakdown=segment:x", 400);
        Assert.True(unknownKind.GetProperty("errors").TryGetProperty("breakdown", out _));

        var missing = await App.ReportAsync("nope", "", 404);
        Assert.Contains("nope", missing.GetProperty("detail").GetString());
        // Another workspace does not see acme's funnel.
        await App.SendAsync(HttpMethod.Get, "/funnels/checkout/report", null, 404, App.Globex.ApiKey);
        Assert.Empty((await App.SendAsync(HttpMethod.Get, "/funnels", null, 200, App.Globex.ApiKey)).EnumerateArray());
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/funnels/checkout/report");
            s.StatusCodeShouldBe(401);
        });
    }
}
