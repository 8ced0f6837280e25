using System.Text;
using EventSourcedJourneys.Dispatch.Channels;
using EventSourcedJourneys.Domain.Messages;
using Microsoft.AspNetCore.WebUtilities;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Tests.Channels;

public sealed class when_sending_sms_and_whatsapp : IAsyncLifetime
{
    private const string AccountSid = "AC0123456789abcdef0123456789abcdef";
    private const string AuthToken = "twilio-token-42";
    private LocalHttpReceiver twilio = null!;
    private ChannelHost host = null!;

    public async ValueTask InitializeAsync()
    {
        twilio = await LocalHttpReceiver.StartAsync();
        twilio.Respond = r => new Reply(201, $$"""{"sid":"SM{{twilio.Requests.Count:D32}}","status":"queued"}""");
        host = new ChannelHost(new Dictionary<string, string?>
        {
            ["Journeys:Channels:Twilio:BaseUrl"] = twilio.BaseUrl + "/",
            ["Journeys:Channels:Twilio:AccountSid"] = AccountSid,
            ["Journeys:Channels:Twilio:AuthToken"] = AuthToken,
            ["Journeys:Channels:Twilio:SmsFrom"] = "+14155550100",
            ["Journeys:Channels:Twilio:WhatsAppFrom"] = "+14155550199",
            ["Journeys:Channels:Twilio:TimeoutSeconds"] = "5", // generous: a loaded CI machine must not turn a quick answer into a time-out
        });
    }

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        await twilio.DisposeAsync();
    }

    private static Dictionary<string, string> Form(CapturedRequest request) =>
        QueryHelpers.ParseQuery(request.BodyText).ToDictionary(p => p.Key, p => p.Value.ToString());

    [Fact]
    public async Task an_sms_is_posted_to_the_messages_api_with_basic_auth_and_twilios_idempotency_token()
    {
        var attempt = await host.SendAsync(ChannelHost.Message(Channel.Sms, "+33612345678", "Hi Ann, 120 USD in your cart"));

        Assert.Equal(new DeliveryAttempt.Sent($"SM{1:D32}"), attempt);
        var request = Assert.Single(await twilio.WaitForAsync(1));
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/2010-04-01/Accounts/{AccountSid}/Messages.json", request.Path);
        Assert.StartsWith("application/x-www-form-urlencoded", request.ContentType);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}")), request.Header("Authorization"));
        Assert.Equal($"msg_{ChannelHost.MessageId:N}", request.Header("I-Twilio-Idempotency-Token"));
        Assert.Equal($"msg_{ChannelHost.MessageId:N}", request.Header("Idempotency-Key"));
        var form = Form(request);
        Assert.Equal("+33612345678", form["To"]);
        Assert.Equal("+14155550100", form["From"]);
        Assert.Equal("Hi Ann, 120 USD in your cart", form["Body"]);
    }

    [Fact]
    public async Task whatsapp_uses_the_whatsapp_prefix_on_both_numbers()
    {
        Assert.IsType<DeliveryAttempt.Sent>(await host.SendAsync(ChannelHost.Message(Channel.WhatsApp, "+33612345678")));
        Assert.IsType<DeliveryAttempt.Sent>(await host.SendAsync(ChannelHost.Message(Channel.WhatsApp, "whatsapp:+33612345679")));

        var requests = await twilio.WaitForAsync(2);
        Assert.Equal("whatsapp:+33612345678", Form(requests[0])["To"]);
        Assert.Equal("whatsapp:+14155550199", Form(requests[0])["From"]);
        Assert.Equal("whatsapp:+33612345679", Form(requests[1])["To"]);
    }

    [Fact]
    public async Task twilios_invalid_number_error_is_permanent_with_its_code()
    {
        twilio.Respond = _ => new Reply(400, """{"code":21211,"message":"The 'To' number +33600000000 is not a valid phone number.","status":400}""");

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(ChannelHost.Message(Channel.Sms, "+33600000000")));

        Assert.Contains("21211", failure.Reason);
        Assert.Contains("not a valid phone number", failure.Reason);
    }

    [Fact]
    public async Task throttling_is_transient_with_twilios_retry_after()
    {
        twilio.Respond = _ => new Reply(429, """{"code":20429,"message":"Too Many Requests"}""",
            Headers: new Dictionary<string, string> { ["Retry-After"] = "7" });

        var failure = Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(ChannelHost.Message(Channel.Sms, "+33612345678")));

        Assert.Equal(Duration.FromSeconds(7), failure.RetryAfter);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task twilio_server_errors_are_transient(int status)
    {
        twilio.Respond = _ => new Reply(status, "upstream error", "text/plain");

        Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(ChannelHost.Message(Channel.Sms, "+33612345678")));
    }

    [Fact]
    public async Task twilio_not_answering_in_time_is_transient()
    {
        twilio.Respond = _ => Reply.Hang;

        Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(ChannelHost.Message(Channel.Sms, "+33612345678")));
    }

    [Fact]
    public async Task an_answer_without_a_sid_is_not_taken_for_a_sent_message()
    {
        twilio.Respond = _ => new Reply(200, "<html>captive portal</html>", "text/html");

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(ChannelHost.Message(Channel.Sms, "+33612345678")));

        Assert.Contains("without a message sid", failure.Reason);
    }

    [Theory]
    [InlineData("0612345678")]
    [InlineData("+0612345678")]
    [InlineData("ann@example.com")]
    public async Task a_number_not_in_e164_form_is_permanent_and_nothing_is_sent(string address)
    {
        Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(ChannelHost.Message(Channel.Sms, address)));
        Assert.Empty(twilio.Requests);
    }

    [Fact]
    public async Task an_unconfigured_account_is_a_permanent_failure_naming_the_settings()
    {
        await using var unconfigured = new ChannelHost(new Dictionary<string, string?>());

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await unconfigured.SendAsync(ChannelHost.Message(Channel.Sms, "+33612345678")));

        Assert.Contains("Journeys:Channels:Twilio:AccountSid", failure.Reason);
    }
}
