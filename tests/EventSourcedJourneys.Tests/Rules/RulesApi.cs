using System.Text.Json;
using Alba;
using EventSourcedJourneys.Tests.Infrastructure;

namespace EventSourcedJourneys.Tests.Rules;

/// <summary>Small helpers to drive the rules API as a marketer's tool would.</summary>
public static class RulesApi
{
    public static async Task<JsonElement> SendAsync(this AppFixture app, HttpMethod method, string url, object? body, int expectedStatus,
        string? key = null, string? ifMatch = null)
    {
        var result = await app.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {key ?? app.Acme.ApiKey}");
            if (ifMatch is not null) s.WithRequestHeader("If-Match", ifMatch);
            if (method == HttpMethod.Get) s.Get.Url(url);
            else if (method == HttpMethod.Put) s.Put.Json(body!).ToUrl(url);
            else if (body is null) s.Post.Url(url);
            else s.Post.Json(body).ToUrl(url);
            s.StatusCodeShouldBe(expectedStatus);
        });
        var text = await result.ReadAsTextAsync();
        return string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<JsonElement> SaveRuleAsync(this AppFixture app, string name, string text, int expectedStatus = 201, int? expectedVersion = null) =>
        app.SendAsync(HttpMethod.Put, $"/rules/{name}", new { text, expectedVersion }, expectedStatus);

    public static Task<JsonElement> PublishAsync(this AppFixture app, string name, int expectedStatus = 200, int? version = null) =>
        app.SendAsync(HttpMethod.Post, $"/rules/{name}/publish{(version is null ? "" : $"?version={version}")}", null, expectedStatus);

    public static Task<JsonElement> GetAsync(this AppFixture app, string url, int expectedStatus = 200) =>
        app.SendAsync(HttpMethod.Get, url, null, expectedStatus);

    public const string ActiveBuyers = """
        segment active_buyers =
            count(event "order_completed" in last 45d) >= 1
        """;

    public const string AbandonedCart = """
        trigger abandoned_cart_over_100
            on event "cart_updated" where properties.total > 100
            wait 30m
            cancel if event "order_completed"
            audience segment active_buyers
            send email "cart-reminder"
        """;
}
