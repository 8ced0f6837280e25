using EventSourcedJourneys.Api.Reports;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Ingestion;
using JasperFx.Core;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>At start every published funnel's index is loaded (ADR 0017), so the first report is answered from memory.</summary>
public sealed class when_the_server_starts_with_published_funnels(AppFixture app) : IntegrationTest(app)
{
    [Fact]
    public async Task the_warm_up_loads_every_published_funnel_of_every_workspace()
    {
        await App.PublishFunnelAsync("warm_checkout", """funnel warm_checkout = event "viewed" -> event "order" within 2d""");
        await App.PublishFunnelAsync("warm_signup", """funnel warm_signup = event "installed" -> event "registered" within 7d""",
            App.Globex.ApiKey);
        await App.PostCallAsync("/v1/batch", """
            {"batch": [
              {"type": "track", "userId": "w-1", "event": "viewed", "messageId": "w-1", "timestamp": "2026-11-30T10:00:00Z"},
              {"type": "track", "userId": "w-1", "event": "order", "messageId": "w-2", "timestamp": "2026-11-30T11:00:00Z"},
              {"type": "track", "userId": "w-2", "event": "viewed", "messageId": "w-3", "timestamp": "2026-11-30T12:00:00Z"}
            ]}
            """);
        await App.Host.DocumentStore().WaitForNonStaleProjectionDataAsync(60.Seconds());

        var warmed = await App.Host.Services.GetRequiredService<FunnelIndexWarmUp>().WarmAllAsync(CancellationToken.None);

        Assert.Equal(2, warmed);
        var held = App.Host.Services.GetRequiredService<FunnelIndexes>().Describe();
        Assert.Equal(2, held.Single(d => d.Tenant == App.Acme.WorkspaceId && d.Funnel == "warm_checkout").Chains);
        Assert.Contains(held, d => d.Tenant == App.Globex.WorkspaceId && d.Funnel == "warm_signup");
    }
}
