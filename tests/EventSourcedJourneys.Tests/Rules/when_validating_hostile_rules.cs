using System.Text.Json;
using Alba;
using EventSourcedJourneys.Tests.Infrastructure;

namespace EventSourcedJourneys.Tests.Rules;

/// <summary>Whatever text a tool sends to <c>POST /rules/validate</c>, the answer is diagnostics or a ProblemDetails, never a 500.</summary>
public sealed class when_validating_hostile_rules(AppFixture app) : IntegrationTest(app)
{
    private async Task<(int Status, string? ContentType, JsonElement Body)> ValidateAsync(string text)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {App.Acme.ApiKey}");
            s.Post.Json(new { text }).ToUrl("/rules/validate");
            s.IgnoreStatusCode();
        });
        var body = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
        return (result.Context.Response.StatusCode, result.Context.Response.ContentType?.Split(';')[0], body);
    }

    [Fact]
    public async Task a_megabyte_of_garbage_is_a_413_problem()
    {
        var random = new Random(4);
        var garbage = string.Create(1 << 20, random, (chars, r) =>
        {
            for (var i = 0; i < chars.Length; i++)
                chars[i] = (char)r.Next(0, 0xD7FF);
        });

        var (status, contentType, problem) = await ValidateAsync(garbage);

        Assert.Equal((413, "application/problem+json"), (status, contentType));
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task a_document_over_the_character_limit_is_a_413_problem_that_names_the_limit()
    {
        var (status, contentType, problem) = await ValidateAsync(new string('x', 300_000));

        Assert.Equal((413, "application/problem+json"), (status, contentType));
        Assert.Contains("262,144 characters", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task an_empty_document_gets_a_diagnostic_at_its_start()
    {
        var (status, _, body) = await ValidateAsync("");

        Assert.Equal(200, status);
        Assert.False(body.GetProperty("valid").GetBoolean());
        var diagnostic = Assert.Single(body.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal(
            ("DSL004", 1, 1, "the document is empty; write at least one segment, trigger, policy or funnel"),
            (diagnostic.GetProperty("code").GetString(), diagnostic.GetProperty("line").GetInt32(), diagnostic.GetProperty("column").GetInt32(),
             diagnostic.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task segments_that_would_take_forever_to_evaluate_are_refused_with_the_place_to_fix()
    {
        var text = "segment s0 = traits.a exists\n"
                   + string.Concat(Enumerable.Range(1, 30).Select(i => $"segment s{i} = segment s{i - 1} or segment s{i - 1} or segment s{i - 1}\n"));

        var (status, _, body) = await ValidateAsync(text);

        Assert.Equal(200, status);
        var diagnostic = Assert.Single(body.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal(("DSL110", 11, 1), (diagnostic.GetProperty("code").GetString(), diagnostic.GetProperty("line").GetInt32(), diagnostic.GetProperty("column").GetInt32()));
        Assert.Equal(31, body.GetProperty("rules").GetArrayLength());
    }

    [Fact]
    public async Task a_rule_named_with_letters_beyond_the_basic_plane_can_be_saved_under_that_name()
    {
        var saved = await App.SaveRuleAsync("𠀀名", "segment 𠀀名 = traits.a exists");

        Assert.Equal("𠀀名", saved.GetProperty("name").GetString());
    }
}
