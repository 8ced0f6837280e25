using System.Text;
using System.Text.Json;
using Alba;
using EventSourcedJourneys.Tests.Infrastructure;

namespace EventSourcedJourneys.Tests.Api;

/// <summary>Every refusal is a ProblemDetails that says what to fix; none is a 500.</summary>
public sealed class when_a_request_is_wrong(AppFixture app) : IntegrationTest(app)
{
    private const string Url = "/contacts/0195a6c1-0000-7000-8000-000000000002/messages";

    private static async Task<JsonElement> ProblemOf(IScenarioResult result)
    {
        Assert.Equal("application/problem+json", result.Context.Response.ContentType?.Split(';')[0]);
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
    }

    [Fact]
    public async Task without_a_key_it_is_401_with_how_to_send_one()
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url("/messages/0195a6c1-0000-7000-8000-000000000009");
            s.StatusCodeShouldBe(401);
        });
        var problem = await ProblemOf(result);
        Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task with_an_unknown_key_it_is_401()
    {
        await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", "Bearer esj_key_not_a_real_key");
            s.Get.Url("/messages/0195a6c1-0000-7000-8000-000000000009");
            s.StatusCodeShouldBe(401);
        });
    }

    [Fact]
    public async Task a_write_key_cannot_use_management_endpoints()
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("X-Api-Key", App.Acme.WriteKey);
            s.Get.Url("/messages/0195a6c1-0000-7000-8000-000000000009");
            s.StatusCodeShouldBe(403);
        });
        Assert.Contains("write key", (await ProblemOf(result)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task http_basic_with_the_key_as_user_name_is_accepted()
    {
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{App.Acme.ApiKey}:"));
        await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Basic {basic}");
            s.Get.Url("/messages/0195a6c1-0000-7000-8000-000000000009");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task invalid_fields_are_named_one_by_one()
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
            s.Post.Json(new { channel = "pigeon", template = "", delay = "PT1H", sendAt = "2026-12-01T10:00:00Z" }).ToUrl(Url);
            s.StatusCodeShouldBe(400);
        });
        var errors = (await ProblemOf(result)).GetProperty("errors");
        Assert.Contains("email", errors.GetProperty("channel")[0].GetString());
        Assert.True(errors.TryGetProperty("template", out _));
        Assert.True(errors.TryGetProperty("sendAt", out _));
    }

    [Theory]
    [InlineData("{\"channel\": \"email\", ")]
    [InlineData("not json at all")]
    [InlineData("{\"channel\": \"email\", \"template\": \"t\", \"delay\": 30}")]
    [InlineData("{\"channel\": \"email\", \"template\": \"t\", \"delay\": \"thirty minutes\"}")]
    [InlineData("[1, 2, 3]")]
    public async Task malformed_json_is_a_400_problem_not_a_500(string body)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
            s.Post.Text(body).ToUrl(Url);
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(400);
        });
        await ProblemOf(result);
    }

    [Theory]
    [InlineData("/contacts/0195a6c1-0000-7000-8000-000000000002/decisions?limit=abc", "limit")]
    [InlineData("/contacts/0195a6c1-0000-7000-8000-000000000002/decisions?after=yesterday", "after")]
    [InlineData("/audit/decisions?contactId=not-a-contact", "contactId")]
    [InlineData("/audit/decisions?rule=promo&replay=maybe", "replay")]
    public async Task a_query_value_that_cannot_be_read_is_a_400_naming_it_not_a_silent_default(string url, string parameter)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
            s.Get.Url(url);
            s.StatusCodeShouldBe(400);
        });
        var problem = (await ProblemOf(result)).GetRawText();
        Assert.Contains(parameter, problem);
        Assert.Contains("cannot be parsed", problem);
    }

    [Fact]
    public async Task a_body_over_the_limit_is_413()
    {
        var huge = "{\"channel\": \"email\", \"template\": \"" + new string('x', 2 * 1024 * 1024) + "\"}";
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
            s.Post.Text(huge).ToUrl(Url);
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(413);
        });
        await ProblemOf(result);
    }

    [Fact]
    public async Task health_and_the_api_description_need_no_key()
    {
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/health");
            s.StatusCodeShouldBe(200);
            s.ContentShouldContain("ok");
        });
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/openapi/v1.json");
            s.StatusCodeShouldBe(200);
            s.ContentShouldContain("/contacts/{contactId}/messages");
        });
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/scalar/");
            s.StatusCodeShouldBe(200);
        });
    }
}
