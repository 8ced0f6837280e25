using System.Text.Json;
using Alba;
using EventSourcedJourneys.Dispatch.Tests.Channels;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Tests.Delivery;
using EventSourcedJourneys.Tests.Infrastructure;
using EventSourcedJourneys.Tests.Rules;
using NodaTime;
using static EventSourcedJourneys.Tests.Delivery.DeliveryScenario;

namespace EventSourcedJourneys.Tests.Audit;

/// <summary>
/// The seed scenario as the issues write it — the abandoned-cart <b>email</b> of the rules language's own examples, published
/// verbatim (send window, re-eligibility, campaign dates, goal, workspace caps and quiet hours) — explained by replay, from
/// the cart to the mail the real SMTP server received, and the second cart of the week that was not sent.
/// </summary>
public sealed class when_an_auditor_asks_why_the_cart_email_went_out(AppFixture app) : IntegrationTest(app)
{
    private static readonly string IssueExamples = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Rules", "issue-examples.rules"));

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await App.PublishDocumentAsync(IssueExamples);
        await App.SaveTemplateAsync("cart-reminder", Channel.Email, "Hi {{ traits.first_name }}, you left {{ properties.total }} in your cart.",
            subject: "Still thinking?");
        var now = App.Clock.GetCurrentInstant(); // 2026-12-01T08:00Z, 09:00 in Paris
        await App.TrackAndSettleAsync("/v1/identify", new
        {
            userId = "ana", traits = new { first_name = "Ana", email = "ana@example.com" }, context = new { timezone = "Europe/Paris" },
            timestamp = At(now),
        });
        await App.TrackAndSettleAsync("/v1/track", new
        {
            userId = "ana", @event = "order_completed", properties = new { total = 40 }, timestamp = At(now - Duration.FromDays(10)),
        });
    }

    private Task CartAsync(decimal total) => App.TrackAndSettleAsync("/v1/track", new
    {
        userId = "ana", @event = "cart_updated", properties = new { total }, timestamp = At(App.Clock.GetCurrentInstant()),
    });

    private static List<JsonElement> Decisions(JsonElement explanation) => explanation.GetProperty("decisions").EnumerateArray().ToList();

    private static bool IsMessage(ReceivedMail mail, Guid messageId) => mail.Message.Headers["X-Journeys-Message-Id"] == messageId.ToString();

    [Fact]
    public async Task the_email_is_explained_from_the_cart_to_the_mail_the_smtp_server_received()
    {
        await CartAsync(150);
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(30)); // due at 08:30Z, 09:30 in Paris
        var message = Assert.Single(await App.MessagesAsync(), m => m.Rule == "abandoned_cart_over_100");
        var mail = await App.Smtp.WaitForAsync(m => IsMessage(m, message.Id));

        var explanation = await App.GetAsync($"/messages/{message.Id}/explanation");

        Assert.Equal("sent", explanation.GetProperty("outcome").GetString());
        Assert.Equal("email", explanation.GetProperty("channel").GetString());
        Assert.True(explanation.GetProperty("reproduced").GetBoolean(), string.Join("\n", explanation.GetProperty("account").EnumerateArray()));
        var rule = explanation.GetProperty("rule");
        Assert.True(rule.GetProperty("textMatchesHash").GetBoolean());
        Assert.Contains("send email \"cart-reminder\"", rule.GetProperty("text").GetString());
        Assert.Contains("at most 1 per 7d", rule.GetProperty("text").GetString());
        Assert.Equal("150", explanation.GetProperty("trigger").GetProperty("facts").GetProperty("properties.total").GetString());

        var decisions = Decisions(explanation);
        Assert.Equal(["entry", "cleared"], decisions.Select(d => d.GetProperty("kind").GetString()));
        Assert.All(decisions, d => Assert.True(d.GetProperty("replay").GetProperty("reproduced").GetBoolean(), d.GetProperty("account").GetString()));
        var checks = decisions[1].GetProperty("checks");
        Assert.Empty(checks.GetProperty("exceptionEvents").GetProperty("candidates").EnumerateArray());
        Assert.True(checks.GetProperty("audience").GetProperty("included").GetBoolean());
        var window = checks.GetProperty("sendWindow");
        Assert.Equal("09:00-21:00", window.GetProperty("window").GetString());
        Assert.Equal("trigger", window.GetProperty("source").GetString()); // the trigger's own window, not the policy's quiet hours
        Assert.Equal("Europe/Paris", window.GetProperty("zone").GetString());
        Assert.Equal("2026-12-01T09:30:00", window.GetProperty("localTime").GetString());
        Assert.True(window.GetProperty("open").GetBoolean());
        Assert.Equal(["3 per 1d", "10 per 7d"], checks.GetProperty("frequencyCaps").EnumerateArray().Select(c => c.GetProperty("cap").GetString()));
        Assert.All(checks.GetProperty("frequencyCaps").EnumerateArray(), c => Assert.Equal(0, c.GetProperty("received").GetInt32()));
        Assert.True(checks.GetProperty("reach").GetProperty("hasAddress").GetBoolean());
        Assert.False(checks.GetProperty("reach").GetProperty("unsubscribed").GetBoolean());

        // The delivery attempt names the id the SMTP server was given for the mail it received.
        var attempt = Assert.Single(explanation.GetProperty("attempts").EnumerateArray());
        Assert.Equal("sent", attempt.GetProperty("outcome").GetString());
        Assert.Equal(mail.Message.MessageId, attempt.GetProperty("providerMessageId").GetString());
        Assert.Contains("ana@example.com", mail.To);
        Assert.Contains("Hi Ana, you left 150 in your cart.", mail.Message.TextBody);
        Assert.Contains("the send window 09:00-21:00 (trigger, local) in Europe/Paris was open at local time 2026-12-01T09:30:00",
            decisions[1].GetProperty("account").GetString());
    }

    [Fact]
    public async Task a_second_cart_the_same_week_is_not_sent_and_the_re_eligibility_limit_says_why()
    {
        await CartAsync(150);
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(30));
        var first = Assert.Single(await App.MessagesAsync(), m => m.Rule == "abandoned_cart_over_100");
        Assert.Equal(ScheduledMessageStatus.Sent, first.Status);
        await App.AdvanceClockAsync(Duration.FromDays(1));
        await CartAsync(200); // matched, but never scheduled: no message of the week may follow the first

        var listed = await App.GetAsync($"/contacts/{first.ContactId}/decisions?rule=abandoned_cart_over_100");

        var explanation = Assert.Single(listed.GetProperty("decisions").EnumerateArray());
        var second = explanation.GetProperty("messageId").GetGuid();
        Assert.NotEqual(first.Id, second);
        Assert.Equal("suppressed", explanation.GetProperty("outcome").GetString());
        Assert.True(explanation.GetProperty("reproduced").GetBoolean());
        var entry = Assert.Single(Decisions(explanation));
        Assert.Equal("entry", entry.GetProperty("kind").GetString());
        Assert.Equal(["triggerMatched", "messageSuppressed"], entry.GetProperty("recorded").EnumerateArray().Select(r => r.GetProperty("type").GetString()));
        var suppressed = entry.GetProperty("recorded")[1].GetProperty("data");
        Assert.Equal("reEligibility", suppressed.GetProperty("reason").GetString());
        Assert.Equal("1 per 7d", suppressed.GetProperty("facts").GetProperty("cap").GetString());
        Assert.Equal("1", suppressed.GetProperty("facts").GetProperty("received").GetString());
        Assert.Contains("allows at most 1 per 7d", entry.GetProperty("account").GetString());
        Assert.Equal("200", explanation.GetProperty("trigger").GetProperty("facts").GetProperty("properties.total").GetString());
        Assert.DoesNotContain(App.Smtp.Received, m => IsMessage(m, second));
    }

    [Fact]
    public async Task the_openapi_document_describes_what_the_audit_endpoints_answer()
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url("/openapi/v1.json");
            s.StatusCodeShouldBe(200);
        });
        var paths = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("paths");
        string Schema(string path, string status, string contentType) => paths.GetProperty(path).GetProperty("get").GetProperty("responses")
            .GetProperty(status).GetProperty("content").GetProperty(contentType).GetProperty("schema").GetRawText();

        Assert.Contains("MessageExplanation", Schema("/messages/{messageId}/explanation", "200", "application/json"));
        Assert.Contains("ProblemDetails", Schema("/messages/{messageId}/explanation", "404", "application/problem+json"));
        Assert.Contains("ContactDecisionPage", Schema("/contacts/{contactId}/decisions", "200", "application/json"));
        Assert.Contains("AuditLine", Schema("/audit/decisions", "200", "application/x-ndjson"));
        Assert.Contains("ProblemDetails", Schema("/audit/decisions", "400", "application/problem+json"));
    }

    [Fact]
    public async Task the_auditors_key_reads_every_decision_and_changes_nothing()
    {
        await CartAsync(150);
        await App.AdvanceAndSettleAsync(Duration.FromMinutes(30));
        var message = Assert.Single(await App.MessagesAsync(), m => m.Rule == "abandoned_cart_over_100");
        var auditor = App.Acme.AuditKey;

        var explanation = await App.SendAsync(HttpMethod.Get, $"/messages/{message.Id}/explanation", null, 200, key: auditor);
        Assert.True(explanation.GetProperty("reproduced").GetBoolean());
        await App.SendAsync(HttpMethod.Get, $"/contacts/{message.ContactId}/decisions", null, 200, key: auditor);
        var export = await App.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {auditor}");
            s.Get.Url($"/audit/decisions?contactId={message.ContactId}&replay=true");
            s.StatusCodeShouldBe(200);
            s.ContentTypeShouldBe("application/x-ndjson");
        });
        Assert.Contains("\"type\":\"messageSent\"", await export.ReadAsTextAsync());

        // Nothing that writes, and nothing beyond the decisions: 403 ProblemDetails saying what the key is for.
        var refused = await App.SendAsync(HttpMethod.Put, "/rules/abandoned_cart_over_100", new { text = RulesApi.AbandonedCart }, 403, key: auditor);
        Assert.Contains("audit key only reads decisions", refused.GetProperty("detail").GetString());
        await App.SendAsync(HttpMethod.Post, "/rules/abandoned_cart_over_100/pause", null, 403, key: auditor);
        await App.SendAsync(HttpMethod.Post, $"/contacts/{message.ContactId}/messages",
            new { channel = "email", template = "cart-reminder", delay = "PT1M" }, 403, key: auditor);
        await App.SendAsync(HttpMethod.Post, "/v1/track", new { userId = "ana", @event = "cart_updated" }, 403, key: auditor);
        await App.SendAsync(HttpMethod.Get, $"/contacts/{message.ContactId}", null, 403, key: auditor);
        await App.SendAsync(HttpMethod.Get, "/admin/projections", null, 403, key: auditor);
        // The workspace's other keys keep their own reach: the write key cannot read decisions.
        await App.SendAsync(HttpMethod.Get, $"/messages/{message.Id}/explanation", null, 403, key: App.Acme.WriteKey);
        // And an auditor of one workspace sees nothing of another's.
        await App.SendAsync(HttpMethod.Get, $"/messages/{message.Id}/explanation", null, 404, key: App.Globex.AuditKey);
        Assert.Single(await App.MessagesAsync());
    }
}
