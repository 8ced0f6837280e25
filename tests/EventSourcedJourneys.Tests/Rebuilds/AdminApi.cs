using System.Text.Json;
using Alba;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedJourneys.Tests.Rebuilds;

/// <summary>The admin API as an operator calls it, with the operator key.</summary>
public static class AdminApi
{
    public static async Task<(JsonElement Body, string? Location)> AdminAsync(this AppFixture app, HttpMethod method, string url,
        int expectedStatus, string? key = AppFixture.AdminKey)
    {
        var result = await app.Host.Scenario(s =>
        {
            if (key is not null) s.WithRequestHeader("Authorization", $"Bearer {key}");
            if (method == HttpMethod.Get) s.Get.Url(url);
            else s.Post.Url(url);
            s.StatusCodeShouldBe(expectedStatus);
        });
        var text = await result.ReadAsTextAsync();
        var body = string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (body, result.Context.Response.Headers.Location.ToString() is { Length: > 0 } location ? location : null);
    }

    public static ProjectionRebuilds Rebuilds(this AppFixture app) => app.Host.Services.GetRequiredService<ProjectionRebuilds>();

    /// <summary>Waits for the read model's rebuild in this server to end (a generous bound for a loaded machine).</summary>
    public static async Task<RebuildStatus> RebuildFinishedAsync(this AppFixture app, string name)
    {
        var completion = app.Rebuilds().Completion(name) ?? throw new InvalidOperationException($"No rebuild of '{name}' was started.");
        return await completion.WaitAsync(TimeSpan.FromMinutes(3));
    }

    /// <summary>Rebuilds one read model to the end through the API.</summary>
    public static async Task<RebuildStatus> RebuildAsync(this AppFixture app, string name)
    {
        await app.AdminAsync(HttpMethod.Post, $"/admin/projections/{name}/rebuild", 202);
        return await app.RebuildFinishedAsync(name);
    }

    public static async Task<int> GenerationAsync(this AppFixture app, string name)
    {
        var (list, _) = await app.AdminAsync(HttpMethod.Get, "/admin/projections", 200);
        return list.EnumerateArray().Single(p => p.GetProperty("name").GetString() == name).GetProperty("generation").GetInt32();
    }
}
