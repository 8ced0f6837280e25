using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace EventSourcedJourneys.Tests.Preview;

/// <summary>Drafts that do not compile, ranges that make no sense, and one workspace's previews seen from another.</summary>
public sealed class when_a_preview_request_is_wrong(AppFixture app) : IntegrationTest(app)
{
    private static readonly Instant From = AppFixture.Start;
    private static readonly Instant To = AppFixture.Start + Duration.FromDays(1);

    private const string Trigger = """
        trigger cart_reminder
            on event "cart_updated"
            audience segment engaged
            send email "cart-reminder"
        """;

    [Fact]
    public async Task a_draft_that_does_not_compile_is_422_with_diagnostics_and_nothing_is_queued()
    {
        var problem = await App.RequestPreviewAsync("trigger cart_reminder\n    on event \"cart_updated\"\n    send pigeon \"x\"", From, To, 422);

        Assert.Equal("The draft does not compile", problem.GetProperty("title").GetString());
        var diagnostic = problem.GetProperty("diagnostics").EnumerateArray().First();
        Assert.Equal(3, diagnostic.GetProperty("line").GetInt32());
        Assert.Empty(await App.Host.Services.GetRequiredService<IDocumentStore>().QuerySession("acme").Query<Dispatch.Preview.RulePreview>().ToListAsync());
    }

    [Fact]
    public async Task a_segment_the_workspace_never_saved_is_422_naming_it()
    {
        var problem = await App.RequestPreviewAsync(Trigger, From, To, 422);

        Assert.Contains("engaged", problem.GetProperty("detail").GetString());
        Assert.Equal(3, problem.GetProperty("diagnostics")[0].GetProperty("line").GetInt32());
    }

    [Fact]
    public async Task a_segment_saved_but_not_published_resolves_as_it_does_when_saving()
    {
        await App.SaveRuleAsync("engaged", "segment engaged = count(event \"app_opened\" in last 30d) >= 1");

        var preview = await App.PreviewAsync(Trigger, From, To);

        Assert.Equal("completed", preview.GetProperty("status").GetString());
        Assert.Equal("engaged", Assert.Single(preview.GetProperty("context").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task a_draft_without_a_trigger_is_422()
    {
        var problem = await App.RequestPreviewAsync("segment engaged = count(event \"app_opened\" in last 30d) >= 1", From, To, 422);

        Assert.Equal("The draft defines no trigger", problem.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData(0, "to")]
    [InlineData(-1, "to")]
    [InlineData(401, "to")]
    public async Task a_range_that_is_empty_backwards_or_longer_than_400_days_is_400_naming_the_field(int days, string field)
    {
        var problem = await App.RequestPreviewAsync(Trigger, From, From + Duration.FromDays(days), 400);

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.GetRawText());
        Assert.NotEmpty(messages.EnumerateArray());
    }

    [Fact]
    public async Task a_missing_range_or_text_is_400_naming_each_field()
    {
        var problem = await App.SendAsync(HttpMethod.Post, "/rules/preview", new { }, 400);

        var errors = problem.GetProperty("errors");
        Assert.Equal(["from", "text", "to"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task a_workspace_sees_neither_another_workspaces_previews_nor_its_events()
    {
        await LiveMorning.RunAsync(App);
        var acme = await App.PreviewAsync(LiveMorning.Rules, From, To);
        var id = acme.GetProperty("id").GetGuid();

        var missing = await App.SendAsync(HttpMethod.Get, $"/rules/previews/{id}", null, 404, App.Globex.ApiKey);
        Assert.Contains(id.ToString(), missing.GetProperty("detail").GetString());

        var globex = await App.PreviewAsync(LiveMorning.Rules, From, To, App.Globex.ApiKey);
        var result = globex.GetProperty("result");
        Assert.Equal(0, result.Count("contactsEvaluated"));
        Assert.Equal(0, result.GetProperty("messages").Count("entries"));
        Assert.Equal(7, acme.GetProperty("result").Count("contactsEvaluated"));
    }

    [Fact]
    public async Task an_unknown_preview_is_404()
    {
        var problem = await App.GetAsync($"/rules/previews/{Guid.NewGuid()}", 404);

        Assert.Equal("No such preview", problem.GetProperty("title").GetString());
    }
}
