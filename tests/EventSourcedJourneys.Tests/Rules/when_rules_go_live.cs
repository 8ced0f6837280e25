using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using static EventSourcedJourneys.Tests.Rules.RulesApi;

namespace EventSourcedJourneys.Tests.Rules;

public sealed class when_rules_go_live(AppFixture app) : IntegrationTest(app)
{
    private static readonly string IssueExamples = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Rules", "issue-examples.rules"));

    private LiveRules Live => App.Host.Services.GetRequiredService<LiveRules>();

    private async Task<int> EventCountOf(string rule)
    {
        await using var session = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        return (await session.Events.FetchStreamAsync(RuleIds.For(rule))).Count;
    }

    [Fact]
    public async Task a_trigger_cannot_go_live_before_the_segment_it_needs()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        await App.SaveRuleAsync("abandoned_cart_over_100", AbandonedCart);

        var refused = await App.PublishAsync("abandoned_cart_over_100", 409);
        Assert.Contains("active_buyers", refused.GetProperty("detail").GetString());
        Assert.Equal(1, await EventCountOf("abandoned_cart_over_100"));

        await App.PublishAsync("active_buyers");
        var published = await App.PublishAsync("abandoned_cart_over_100");
        Assert.Equal("live", published.GetProperty("status").GetString());
    }

    [Fact]
    public async Task the_engine_sees_a_published_version_for_the_next_event_without_a_restart()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        await App.PublishAsync("active_buyers");
        await App.SaveRuleAsync("abandoned_cart_over_100", AbandonedCart);
        Assert.Empty((await Live.ForWorkspaceAsync("acme")).Document.TriggersOnEvent("cart_updated"));

        await App.PublishAsync("abandoned_cart_over_100");
        var first = await Live.ForWorkspaceAsync("acme");
        Assert.Single(first.Document.TriggersOnEvent("cart_updated"));

        await App.SaveRuleAsync("abandoned_cart_over_100", AbandonedCart.Replace("\"cart_updated\"", "\"basket_changed\""));
        Assert.Single((await Live.ForWorkspaceAsync("acme")).Document.TriggersOnEvent("cart_updated"));  // a draft changes nothing live

        await App.PublishAsync("abandoned_cart_over_100");
        var second = await Live.ForWorkspaceAsync("acme");
        Assert.True(second.Revision > first.Revision);
        Assert.Empty(second.Document.TriggersOnEvent("cart_updated"));
        Assert.Single(second.Document.TriggersOnEvent("basket_changed"));
        Assert.Equal(2, second.Rules["abandoned_cart_over_100"].Version);

        var view = await App.GetAsync("/live-rules");
        Assert.Equal("basket_changed", view.GetProperty("triggeringEvents")[0].GetString());
        Assert.Empty((await Live.ForWorkspaceAsync("globex")).Rules);
    }

    [Fact]
    public async Task a_paused_trigger_stops_matching_and_resumes()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        await App.PublishAsync("active_buyers");
        await App.SaveRuleAsync("abandoned_cart_over_100", AbandonedCart);
        await App.PublishAsync("abandoned_cart_over_100");

        await App.SendAsync(HttpMethod.Post, "/rules/abandoned_cart_over_100/pause", null, 200);
        Assert.Empty((await Live.ForWorkspaceAsync("acme")).Document.TriggersOnEvent("cart_updated"));
        Assert.Equal("paused", (await App.GetAsync("/rules/abandoned_cart_over_100")).GetProperty("status").GetString());

        await App.SendAsync(HttpMethod.Post, "/rules/abandoned_cart_over_100/resume", null, 200);
        Assert.Single((await Live.ForWorkspaceAsync("acme")).Document.TriggersOnEvent("cart_updated"));

        var segmentPause = await App.SendAsync(HttpMethod.Post, "/rules/active_buyers/pause", null, 409);
        Assert.Contains("Only triggers", segmentPause.GetProperty("title").GetString());
    }

    [Fact]
    public async Task unknown_rules_missing_versions_and_double_archiving_are_refused_without_an_event()
    {
        await App.PublishAsync("nobody", 404);
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);

        var missing = await App.PublishAsync("active_buyers", 404, version: 7);
        Assert.Contains("no version 7", missing.GetProperty("detail").GetString());

        await App.SendAsync(HttpMethod.Post, "/rules/active_buyers/archive", null, 200);
        var twice = await App.SendAsync(HttpMethod.Post, "/rules/active_buyers/archive", null, 409);
        Assert.Contains("already archived", twice.GetProperty("title").GetString());
        Assert.Equal(2, await EventCountOf("active_buyers"));
        await App.GetAsync("/rules/active_buyers/versions/9", 404);
    }

    [Fact]
    public async Task a_segment_that_live_triggers_need_cannot_be_archived()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        await App.PublishAsync("active_buyers");
        await App.SaveRuleAsync("abandoned_cart_over_100", AbandonedCart);
        await App.PublishAsync("abandoned_cart_over_100");

        var refused = await App.SendAsync(HttpMethod.Post, "/rules/active_buyers/archive", null, 409);

        Assert.Contains("active_buyers", refused.GetProperty("detail").GetString());
        Assert.Equal("live", (await App.GetAsync("/rules/active_buyers")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task the_issue_examples_save_as_one_document_and_publish_together()
    {
        var saved = await App.SendAsync(HttpMethod.Put, "/rules", new { text = IssueExamples }, 200);
        var names = saved.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["active_buyers", "urban_women_35_45", "lapsed_subscribers", "big_spenders", "abandoned_cart_over_100",
            "browsed_wealth_no_purchase", "vip_expiry_reminder", "order_shipped", "frequency_cap", "quiet_hours"], names);

        var trigger = await App.GetAsync("/rules/abandoned_cart_over_100/versions/1");
        Assert.StartsWith("# Braze-style action-based trigger", trigger.GetProperty("text").GetString());
        Assert.EndsWith("# conversion for attribution", trigger.GetProperty("text").GetString());

        var again = await App.SendAsync(HttpMethod.Put, "/rules", new { text = IssueExamples }, 200);
        Assert.All(again.GetProperty("rules").EnumerateArray(), r => Assert.False(r.GetProperty("changed").GetBoolean()));

        foreach (var name in names) await App.PublishAsync(name!);
        var live = await Live.ForWorkspaceAsync("acme");
        Assert.Equal(10, live.Rules.Count);
        Assert.NotNull(live.Document.FindTrigger("vip_expiry_reminder"));
    }

    [Fact]
    public async Task a_document_that_defines_a_name_twice_saves_nothing()
    {
        var problem = await App.SendAsync(HttpMethod.Put, "/rules", new { text = ActiveBuyers + "\n\n" + ActiveBuyers }, 422);

        Assert.NotEqual(0, problem.GetProperty("diagnostics").GetArrayLength());
        Assert.Equal(0, (await App.GetAsync("/rules")).GetArrayLength());
    }

    [Fact]
    public async Task validate_lists_the_rules_and_diagnostics_without_saving()
    {
        var ok = await App.SendAsync(HttpMethod.Post, "/rules/validate", new { text = IssueExamples }, 200);
        Assert.True(ok.GetProperty("valid").GetBoolean());
        Assert.Equal(10, ok.GetProperty("rules").GetArrayLength());

        var bad = await App.SendAsync(HttpMethod.Post, "/rules/validate", new { text = "trigger t\n    on event \"x\"\n    send carrier_pigeon \"hi\"" }, 200);
        Assert.False(bad.GetProperty("valid").GetBoolean());
        Assert.Equal(3, bad.GetProperty("diagnostics")[0].GetProperty("line").GetInt32());
        Assert.Equal(0, (await App.GetAsync("/rules")).GetArrayLength());
    }

    [Fact]
    public async Task validate_resolves_references_to_saved_rules()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        var result = await App.SendAsync(HttpMethod.Post, "/rules/validate", new { text = AbandonedCart }, 200);
        Assert.True(result.GetProperty("valid").GetBoolean());
    }
}
