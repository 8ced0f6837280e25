using System.Text;
using System.Text.Json;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;

namespace EventSourcedJourneys.Tests.Ingestion;

/// <summary>Every bad input gets a ProblemDetails naming what to fix, and nothing of it is half-written.</summary>
public sealed class when_a_call_is_wrong(AppFixture app) : IntegrationTest(app)
{
    private static string[] ErrorsOf(JsonElement problem, string field) =>
        problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();

    private async Task<int> StoredEventsAsync()
    {
        await using var session = App.Host.DocumentStore().QuerySession("acme");
        return await session.Events.QueryAllRawEvents().CountAsync();
    }

    [Fact]
    public async Task malformed_json_is_400_with_where_it_broke()
    {
        var problem = await App.PostCallAsync("/v1/track", """{"userId": "u", "event": "X",""", 400);
        Assert.Equal("The body is not valid JSON", problem.GetProperty("title").GetString());
        Assert.Contains("line 1", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await StoredEventsAsync());
    }

    [Theory]
    [InlineData("""{"userId": 42, "event": "X"}""", "userId", "must be a string")]
    [InlineData("""{"userId": "u", "event": "X", "properties": [1, 2]}""", "properties", "must be a JSON object")]
    [InlineData("""{"event": "X"}""", "userId", "Give userId or anonymousId")]
    [InlineData("""{"userId": "u"}""", "event", "names its event")]
    [InlineData("""{"userId": "u", "event": "X", "timestamp": "yesterday"}""", "timestamp", "not an ISO-8601")]
    [InlineData("""{"userId": "u", "event": "X", "timestamp": "2026-12-01T09:30:00"}""", "timestamp", "with an offset")]
    [InlineData("""{"userId": "u", "event": "X", "timestamp": "2031-01-01T00:00:00Z"}""", "timestamp", "more than 24 hours after")]
    [InlineData("""{"userId": "u", "event": "X", "originalTimestamp": "2030-01-01T00:00:00Z"}""", "originalTimestamp", "more than 24 hours after")]
    [InlineData("""{"userId": "u", "event": "X", "sentAt": 1700000000}""", "sentAt", "ISO-8601")]
    public async Task a_wrong_field_is_named(string body, string field, string message)
    {
        var problem = await App.PostCallAsync("/v1/track", body, 400);
        Assert.Contains(ErrorsOf(problem, field), m => m.Contains(message));
        Assert.Equal(0, await StoredEventsAsync());
    }

    [Fact]
    public async Task an_unknown_type_in_a_batch_is_named_and_the_valid_calls_are_stored()
    {
        var problem = await App.PostCallAsync("/v1/batch", """
            {"batch": [
              {"type": "track", "userId": "b-1", "event": "Kept", "messageId": "k-1"},
              {"type": "purchase", "userId": "b-1", "messageId": "k-2"},
              {"type": "identify", "messageId": "k-3"},
              {"type": "identify", "userId": "b-1", "traits": {"plan": "pro"}, "messageId": "k-4"}
            ]}
            """, 400);
        Assert.Equal("Some calls of the batch were refused", problem.GetProperty("title").GetString());
        Assert.Contains(ErrorsOf(problem, "batch[1].type"), m => m.Contains("Unknown type 'purchase'"));
        Assert.Contains(ErrorsOf(problem, "batch[2].userId"), m => m.Contains("Give userId or anonymousId"));
        Assert.Equal([0, 3], problem.GetProperty("stored").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal([1, 2], problem.GetProperty("refused").EnumerateArray().Select(i => i.GetInt32()));

        var contact = await App.ContactOfUserAsync("b-1");
        Assert.Equal(2, contact.GetProperty("events").GetInt32());
        Assert.Equal("pro", contact.GetProperty("traits").GetProperty("plan").GetString());
    }

    [Fact]
    public async Task a_call_over_32_kb_is_refused_by_itself()
    {
        var big = new string('x', 33 * 1024);
        var single = await App.PostCallAsync("/v1/track", JsonSerializer.Serialize(new { userId = "big", @event = "X", properties = new { big } }), 413);
        Assert.Contains("32 KB", single.GetProperty("detail").GetString());

        var batch = await App.PostCallAsync("/v1/batch", JsonSerializer.Serialize(new
        {
            batch = new object[]
            {
                new { type = "track", userId = "big", @event = "Small", messageId = "s-1" },
                new { type = "track", userId = "big", @event = "Big", messageId = "s-2", properties = new { big } },
            },
        }), 400);
        Assert.Contains(ErrorsOf(batch, "batch[1]"), m => m.Contains("32,768"));
        Assert.Equal(1, (await App.ContactOfUserAsync("big")).GetProperty("events").GetInt32());
    }

    [Fact]
    public async Task a_body_over_500_kb_is_413_and_nothing_is_stored()
    {
        var calls = Enumerable.Range(0, 40).Select(i => new { type = "track", userId = "huge", @event = "X", messageId = $"h-{i}", properties = new { pad = new string('y', 14 * 1024) } });
        var body = JsonSerializer.Serialize(new { batch = calls });
        Assert.True(Encoding.UTF8.GetByteCount(body) > 500 * 1024);
        var problem = await App.PostCallAsync("/v1/batch", body, 413);
        Assert.Contains("512,000", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await StoredEventsAsync());
    }

    [Fact]
    public async Task a_batch_that_is_not_a_list_is_refused_whole()
    {
        var problem = await App.PostCallAsync("/v1/batch", """{"batch": {"type": "track"}}""", 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("batch", out _));
    }
}
