using System.Text;
using System.Text.Json;
using Alba;
using EventSourcedJourneys.Tests.Infrastructure;

namespace EventSourcedJourneys.Tests.Ingestion;

/// <summary>Drives the tracking API as a Segment SDK does (write key as HTTP Basic user name) and reads back as an operator.</summary>
public static class TrackingApi
{
    public static string Basic(string key) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key}:"));

    public static async Task<JsonElement> PostCallAsync(this AppFixture app, string path, string json, int expectedStatus = 200, string? writeKey = null,
        bool withoutAuthorization = false)
    {
        var result = await app.Host.Scenario(s =>
        {
            if (!withoutAuthorization) s.WithRequestHeader("Authorization", Basic(writeKey ?? app.Acme.WriteKey));
            s.Post.Text(json).ToUrl(path);
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(expectedStatus);
        });
        var text = await result.ReadAsTextAsync();
        return string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<JsonElement> PostCallAsync(this AppFixture app, string path, object body, int expectedStatus = 200, string? writeKey = null) =>
        app.PostCallAsync(path, JsonSerializer.Serialize(body), expectedStatus, writeKey);

    public static async Task<JsonElement> ReadAsync(this AppFixture app, string url, int expectedStatus = 200, string? apiKey = null)
    {
        var result = await app.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {apiKey ?? app.Acme.ApiKey}");
            s.Get.Url(url);
            s.StatusCodeShouldBe(expectedStatus);
        });
        var text = await result.ReadAsTextAsync();
        return string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<JsonElement> ContactOfUserAsync(this AppFixture app, string userId, int expectedStatus = 200) =>
        app.ReadAsync($"/contacts?userId={Uri.EscapeDataString(userId)}", expectedStatus);

    public static Task<JsonElement> ContactOfAnonymousAsync(this AppFixture app, string anonymousId, int expectedStatus = 200) =>
        app.ReadAsync($"/contacts?anonymousId={Uri.EscapeDataString(anonymousId)}", expectedStatus);

    /// <summary>The contact's tracked calls (not the server's identity bookkeeping), by event time.</summary>
    public static async Task<List<JsonElement>> CallsOfAsync(this AppFixture app, string contactId, string query = "type=track,identify,page,screen,group,alias")
    {
        var page = await app.ReadAsync($"/contacts/{contactId}/events?{query}&limit=1000");
        return page.GetProperty("events").EnumerateArray().ToList();
    }

    public static string Id(this JsonElement profile) => profile.GetProperty("id").GetString()!;
}
