using System.Text.Json;
using EventSourcedJourneys.Dispatch.Channels;
using EventSourcedJourneys.Domain.Messages;

namespace EventSourcedJourneys.Dispatch.Tests.Channels;

public sealed class when_sending_push : IAsyncLifetime
{
    private const string Token = "fcm-token:APA91bH-example_token";
    private LocalHttpReceiver fcm = null!;
    private ChannelHost host = null!;

    public async ValueTask InitializeAsync()
    {
        fcm = await LocalHttpReceiver.StartAsync();
        fcm.Respond = _ => new Reply(200, """{"name":"projects/acme-app/messages/0:1700000000000000%31bd1c9631bd1c96"}""");
        host = new ChannelHost(new Dictionary<string, string?>
        {
            ["Journeys:Channels:Fcm:BaseUrl"] = fcm.BaseUrl,
            ["Journeys:Channels:Fcm:ProjectId"] = "acme-app",
            ["Journeys:Channels:Fcm:AccessToken"] = "ya29.test-access-token",
            ["Journeys:Channels:Fcm:TimeoutSeconds"] = "5", // generous: a loaded CI machine must not turn a quick answer into a time-out
        });
    }

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        await fcm.DisposeAsync();
    }

    private static OutgoingMessage Push(Channel channel = Channel.Push) => ChannelHost.Message(channel, Token, "120 USD left in your cart",
        title: "Ann, still there?", data: new Dictionary<string, string> { ["url"] = "app://cart/c-42" });

    [Fact]
    public async Task a_push_is_posted_to_fcm_v1_with_token_notification_and_data()
    {
        var attempt = await host.SendAsync(Push());

        Assert.Equal(new DeliveryAttempt.Sent("projects/acme-app/messages/0:1700000000000000%31bd1c9631bd1c96"), attempt);
        var request = Assert.Single(await fcm.WaitForAsync(1));
        Assert.Equal("/v1/projects/acme-app/messages:send", request.Path);
        Assert.Equal("Bearer ya29.test-access-token", request.Header("Authorization"));
        Assert.Equal($"msg_{ChannelHost.MessageId:N}", request.Header("Idempotency-Key"));
        var message = JsonDocument.Parse(request.Body).RootElement.GetProperty("message");
        Assert.Equal(Token, message.GetProperty("token").GetString());
        Assert.Equal("Ann, still there?", message.GetProperty("notification").GetProperty("title").GetString());
        Assert.Equal("120 USD left in your cart", message.GetProperty("notification").GetProperty("body").GetString());
        Assert.Equal("app://cart/c-42", message.GetProperty("data").GetProperty("url").GetString());
        Assert.Equal(ChannelHost.MessageId.ToString(), message.GetProperty("data").GetProperty("journeys_message_id").GetString());
        Assert.False(message.TryGetProperty("webpush", out _));
    }

    [Fact]
    public async Task web_push_goes_to_fcm_with_a_webpush_notification()
    {
        Assert.IsType<DeliveryAttempt.Sent>(await host.SendAsync(Push(Channel.WebPush)));

        var message = JsonDocument.Parse(Assert.Single(await fcm.WaitForAsync(1)).Body).RootElement.GetProperty("message");
        Assert.Equal("Ann, still there?", message.GetProperty("webpush").GetProperty("notification").GetProperty("title").GetString());
    }

    [Fact]
    public async Task an_unregistered_token_is_permanent_with_fcms_error_code()
    {
        fcm.Respond = _ => new Reply(404, """
            {"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND",
              "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}
            """);

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Push()));

        Assert.Contains("UNREGISTERED", failure.Reason);
    }

    [Fact]
    public async Task an_invalid_argument_is_permanent()
    {
        fcm.Respond = _ => new Reply(400, """{"error":{"code":400,"message":"Invalid registration token","status":"INVALID_ARGUMENT"}}""");

        Assert.Contains("INVALID_ARGUMENT", Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Push())).Reason);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task fcm_overload_and_quota_are_transient(int status)
    {
        fcm.Respond = _ => new Reply(status, """{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}""");

        Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Push()));
    }

    [Fact]
    public async Task fcm_not_answering_in_time_is_transient()
    {
        fcm.Respond = _ => Reply.Hang;

        Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Push()));
    }

    [Fact]
    public async Task an_empty_token_is_permanent_and_nothing_is_sent()
    {
        Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(ChannelHost.Message(Channel.Push, "")));
        Assert.Empty(fcm.Requests);
    }

    [Fact]
    public async Task in_app_messages_have_no_provider_adapter()
    {
        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(ChannelHost.Message(Channel.InApp, ChannelHost.ContactId.ToString())));

        Assert.Contains("inbox", failure.Reason);
        Assert.False(host.Dispatcher.Supports(Channel.InApp));
        Assert.True(host.Dispatcher.Supports(Channel.WebPush));
    }
}
