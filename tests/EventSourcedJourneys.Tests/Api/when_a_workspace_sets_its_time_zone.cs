using EventSourcedJourneys.Api.Workspaces;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Tests.Api;

public sealed class when_a_workspace_sets_its_time_zone(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task it_is_kept_and_used_for_that_workspace_only()
    {
        Assert.Equal("UTC", (await App.GetAsync("/workspace")).GetProperty("timeZone").GetString());

        var changed = await App.SendAsync(HttpMethod.Put, "/workspace", new { timeZone = "Asia/Shanghai" }, 200);

        Assert.Equal("Asia/Shanghai", changed.GetProperty("timeZone").GetString());
        Assert.Equal("Acme Corp", changed.GetProperty("name").GetString());
        var registry = App.Host.Services.GetRequiredService<WorkspaceRegistry>();
        Assert.Equal("Asia/Shanghai", (await registry.TimeZoneOfAsync("acme")).Id);
        Assert.Equal("UTC", (await registry.TimeZoneOfAsync("globex")).Id);
    }

    [Fact]
    public async Task an_unknown_zone_is_a_field_error()
    {
        var problem = await App.SendAsync(HttpMethod.Put, "/workspace", new { timeZone = "Mars/Olympus_Mons" }, 400);
        Assert.Contains("Europe/Paris", problem.GetProperty("errors").GetProperty("timeZone")[0].GetString());
    }
}
