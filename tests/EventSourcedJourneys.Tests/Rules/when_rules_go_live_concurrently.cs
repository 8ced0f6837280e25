using EventSourcedJourneys.Projections.Rules;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Tests.Rules;

/// <summary>
/// The live rule set is one document per workspace, written by every publish, pause, resume and archive: marketers
/// changing different rules at the same moment must not overwrite each other's change.
/// </summary>
public sealed class when_rules_go_live_concurrently(AppFixture app) : IntegrationTest(app)
{
    private const int Rules = 12;

    [Fact]
    public async Task every_concurrent_publish_is_in_the_live_set()
    {
        for (var i = 0; i < Rules; i++)
            await App.SaveRuleAsync($"viewer_{i}", $"segment viewer_{i} =\n    count(event \"viewed_{i}\" in last 7d) >= 1");

        await Task.WhenAll(Enumerable.Range(0, Rules).Select(i => Task.Run(() => App.PublishAsync($"viewer_{i}"))));

        Assert.Equal(Enumerable.Range(0, Rules).Select(i => $"viewer_{i}").Order(StringComparer.Ordinal), await LiveNamesAsync());
    }

    [Fact]
    public async Task concurrent_archives_and_publishes_each_land()
    {
        for (var i = 0; i < Rules; i++)
            await App.SaveRuleAsync($"viewer_{i}", $"segment viewer_{i} =\n    count(event \"viewed_{i}\" in last 7d) >= 1");
        for (var i = 0; i < Rules; i += 2) await App.PublishAsync($"viewer_{i}");

        // The even ones are archived while the odd ones go live, all at once.
        await Task.WhenAll(Enumerable.Range(0, Rules).Select(i => Task.Run(() => i % 2 == 0
            ? App.SendAsync(HttpMethod.Post, $"/rules/viewer_{i}/archive", null, 200)
            : App.PublishAsync($"viewer_{i}"))));

        Assert.Equal(Enumerable.Range(0, Rules).Where(i => i % 2 == 1).Select(i => $"viewer_{i}").Order(StringComparer.Ordinal),
            await LiveNamesAsync());
    }

    private async Task<List<string>> LiveNamesAsync()
    {
        await using var session = App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession(App.Acme.WorkspaceId);
        var live = await session.LoadAsync<LiveRuleSet>(LiveRuleSet.DocumentId);
        return live!.Rules.Keys.Order(StringComparer.Ordinal).ToList();
    }
}
