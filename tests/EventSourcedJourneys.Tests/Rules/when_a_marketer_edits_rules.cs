using System.Text.Json;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using static EventSourcedJourneys.Tests.Rules.RulesApi;

namespace EventSourcedJourneys.Tests.Rules;

public sealed class when_a_marketer_edits_rules(AppFixture app) : IntegrationTest(app)
{
    private async Task<IReadOnlyList<object>> EventsOf(string rule)
    {
        await using var session = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme");
        return (await session.Events.FetchStreamAsync(RuleIds.For(rule))).Select(e => e.Data).ToList();
    }

    [Fact]
    public async Task each_save_is_a_new_immutable_version_with_its_text_and_hash()
    {
        var first = await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        Assert.Equal(1, first.GetProperty("version").GetInt32());

        var again = await App.SaveRuleAsync("active_buyers", ActiveBuyers, expectedStatus: 200);
        Assert.False(again.GetProperty("changed").GetBoolean());

        var changed = ActiveBuyers.Replace(">= 1", ">= 2");
        var second = await App.SaveRuleAsync("active_buyers", changed);
        Assert.Equal(2, second.GetProperty("version").GetInt32());

        var v1 = await App.GetAsync("/rules/active_buyers/versions/1");
        Assert.Equal(ActiveBuyers, v1.GetProperty("text").GetString());
        Assert.Equal(first.GetProperty("contentHash").GetString(), v1.GetProperty("contentHash").GetString());
        Assert.Equal(64, v1.GetProperty("contentHash").GetString()!.Length);

        var rule = await App.GetAsync("/rules/active_buyers");
        Assert.Equal("draft", rule.GetProperty("status").GetString());
        Assert.Equal(2, rule.GetProperty("versions").GetArrayLength());
        Assert.Equal(2, (await EventsOf("active_buyers")).Count);
    }

    [Fact]
    public async Task the_diff_of_two_versions_shows_the_changed_line()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        await App.SaveRuleAsync("active_buyers", ActiveBuyers.Replace("45d", "60d"));

        var diff = await App.GetAsync("/rules/active_buyers/diff?from=1&to=2");

        var lines = diff.GetProperty("lines").EnumerateArray().ToList();
        Assert.Contains(lines, l => l.GetProperty("change").GetString() == "removed" && l.GetProperty("text").GetString()!.Contains("45d"));
        Assert.Contains(lines, l => l.GetProperty("change").GetString() == "added" && l.GetProperty("text").GetString()!.Contains("60d"));
        Assert.Contains("-    count(event \"order_completed\" in last 45d) >= 1", diff.GetProperty("unified").GetString());
    }

    [Fact]
    public async Task a_text_that_does_not_compile_is_refused_with_line_and_column_and_appends_nothing()
    {
        var problem = await App.SaveRuleAsync("active_buyers", "segment active_buyers =\n    count(event \"order_completed\" in last 45d) >= ", 422);

        var diagnostic = problem.GetProperty("diagnostics")[0];
        Assert.Equal(2, diagnostic.GetProperty("line").GetInt32());
        Assert.True(diagnostic.GetProperty("column").GetInt32() > 1);
        Assert.Contains("2:", problem.GetProperty("detail").GetString());
        Assert.Empty(await EventsOf("active_buyers"));
    }

    [Fact]
    public async Task an_unknown_segment_is_named_with_its_position()
    {
        var problem = await App.SaveRuleAsync("abandoned_cart_over_100", AbandonedCart, 422);

        var diagnostic = problem.GetProperty("diagnostics")[0];
        Assert.Contains("active_buyers", diagnostic.GetProperty("message").GetString());
        Assert.Equal(5, diagnostic.GetProperty("line").GetInt32());
    }

    [Theory]
    [InlineData("9lives")]
    [InlineData("has-dash")]
    public async Task a_name_that_is_not_an_identifier_is_a_400(string name)
    {
        var problem = await App.SaveRuleAsync(name, ActiveBuyers, 400);
        Assert.Contains("not a valid rule name", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task the_text_must_define_the_rule_the_url_names()
    {
        var problem = await App.SaveRuleAsync("big_spenders", ActiveBuyers, 422);
        Assert.Contains("'active_buyers'", problem.GetProperty("detail").GetString());
        Assert.Empty(await EventsOf("big_spenders"));
    }

    [Fact]
    public async Task a_stale_expected_version_is_a_409_with_the_current_one()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);
        await App.SaveRuleAsync("active_buyers", ActiveBuyers.Replace("45d", "60d"), expectedVersion: 1);

        var problem = await App.SaveRuleAsync("active_buyers", ActiveBuyers.Replace("45d", "90d"), 409, expectedVersion: 1);

        Assert.Equal(2, problem.GetProperty("currentVersion").GetInt32());
        Assert.Equal(2, (await EventsOf("active_buyers")).Count);
        await App.SendAsync(HttpMethod.Put, "/rules/active_buyers", new { text = ActiveBuyers.Replace("45d", "90d") }, 409, ifMatch: "\"1\"");
    }

    [Fact]
    public async Task two_concurrent_edits_of_the_same_version_cannot_both_win()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);

        async Task<int> Edit(string window)
        {
            var result = await App.Host.Scenario(s =>
            {
                s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
                s.Put.Json(new { text = ActiveBuyers.Replace("45d", window), expectedVersion = 1 }).ToUrl("/rules/active_buyers");
                s.IgnoreStatusCode();
            });
            return result.Context.Response.StatusCode;
        }

        var statuses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Edit($"{50 + i}d")));

        Assert.Equal(1, statuses.Count(s => s == 201));
        Assert.All(statuses.Where(s => s != 201), s => Assert.Equal(409, s));
        Assert.Equal(2, (await EventsOf("active_buyers")).Count);
    }

    [Fact]
    public async Task another_workspace_does_not_see_the_rules()
    {
        await App.SaveRuleAsync("active_buyers", ActiveBuyers);

        await App.SendAsync(HttpMethod.Get, "/rules/active_buyers", null, 404, key: App.Globex.ApiKey);
        var list = await App.SendAsync(HttpMethod.Get, "/rules", null, 200, key: App.Globex.ApiKey);
        Assert.Equal(0, list.GetArrayLength());
    }
}
