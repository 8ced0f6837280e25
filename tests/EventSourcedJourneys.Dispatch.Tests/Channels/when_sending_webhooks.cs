using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedJourneys.Dispatch.Channels;
using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Tests.Channels;

public sealed class when_sending_webhooks : IAsyncLifetime
{
    private const string Secret = "whsec_acme_3b1f";
    private LocalHttpReceiver receiver = null!;
    private ChannelHost host = null!;

    public async ValueTask InitializeAsync()
    {
        receiver = await LocalHttpReceiver.StartAsync();
        host = new ChannelHost(new Dictionary<string, string?>
        {
            ["Journeys:Channels:Webhook:Secrets:acme"] = Secret,
            ["Journeys:Channels:Webhook:TimeoutSeconds"] = "5", // generous: a loaded CI machine must not turn a quick answer into a time-out
        });
    }

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        await receiver.DisposeAsync();
    }

    private OutgoingMessage Message(string workspace = "acme") =>
        ChannelHost.Message(Channel.Webhook, $"{receiver.BaseUrl}/hooks/journeys?source=esj", "{\"cart\":\"c-42\"}", workspace: workspace);

    /// <summary>What a receiver does: recompute the HMAC over "timestamp.body" with its copy of the secret, compare in
    /// constant time, and refuse a timestamp outside five minutes of its own clock.</summary>
    private static bool Verifies(CapturedRequest request, string secret, Instant receiverNow)
    {
        var timestamp = long.Parse(request.Header("X-Journeys-Timestamp"), CultureInfo.InvariantCulture);
        if (Math.Abs(receiverNow.ToUnixTimeSeconds() - timestamp) > 300) return false;
        var signed = Encoding.UTF8.GetBytes($"{timestamp}.").Concat(request.Body).ToArray();
        var expected = "sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed)).ToLowerInvariant();
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(request.Header("X-Journeys-Signature")));
    }

    [Fact]
    public async Task the_envelope_is_posted_signed_with_the_workspaces_secret()
    {
        var attempt = await host.SendAsync(Message());

        Assert.Equal(new DeliveryAttempt.Sent(ChannelHost.MessageId.ToString()), attempt);
        var request = Assert.Single(await receiver.WaitForAsync(1));
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hooks/journeys?source=esj", request.Path);
        Assert.StartsWith("application/json", request.ContentType);
        Assert.True(Verifies(request, Secret, ChannelHost.Now));
        Assert.False(Verifies(request, "another secret", ChannelHost.Now));
        Assert.Equal(ChannelHost.Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), request.Header("X-Journeys-Timestamp"));
        Assert.Equal($"msg_{ChannelHost.MessageId:N}", request.Header("Idempotency-Key"));

        var envelope = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(ChannelHost.MessageId.ToString(), envelope.GetProperty("id").GetString());
        Assert.Equal("message", envelope.GetProperty("type").GetString());
        Assert.Equal("acme", envelope.GetProperty("workspace").GetString());
        Assert.Equal(ChannelHost.ContactId.ToString(), envelope.GetProperty("contactId").GetString());
        Assert.Equal("webhook", envelope.GetProperty("channel").GetString());
        Assert.Equal("cart-reminder", envelope.GetProperty("template").GetProperty("name").GetString());
        Assert.Equal(2, envelope.GetProperty("template").GetProperty("version").GetInt32());
        Assert.Equal("{\"cart\":\"c-42\"}", envelope.GetProperty("content").GetProperty("body").GetString());
        Assert.Equal("2026-12-01T09:30:00Z", envelope.GetProperty("sentAt").GetString());
        Assert.Equal("2026-12-01T09:29:00Z", envelope.GetProperty("dueAt").GetString());
    }

    [Fact]
    public async Task a_replayed_request_fails_verification_once_its_timestamp_is_old()
    {
        await host.SendAsync(Message());
        var request = Assert.Single(await receiver.WaitForAsync(1));

        Assert.False(Verifies(request, Secret, ChannelHost.Now + Duration.FromMinutes(6)));
        // Moving the timestamp forward breaks the signature, which covers it.
        var forged = request with { Headers = new Dictionary<string, string>(request.Headers, StringComparer.OrdinalIgnoreCase)
        {
            ["X-Journeys-Timestamp"] = (ChannelHost.Now + Duration.FromMinutes(6)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        } };
        Assert.False(Verifies(forged, Secret, ChannelHost.Now + Duration.FromMinutes(6)));
    }

    [Fact]
    public async Task every_attempt_of_a_message_carries_the_same_idempotency_key()
    {
        receiver.Respond = r => receiver.Requests.Count == 1 ? new Reply(503) : new Reply(200);

        Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Message()));
        host.Clock.Advance(Duration.FromSeconds(30));
        Assert.IsType<DeliveryAttempt.Sent>(await host.SendAsync(Message()));

        var requests = await receiver.WaitForAsync(2);
        Assert.Equal(requests[0].Header("Idempotency-Key"), requests[1].Header("Idempotency-Key"));
        Assert.True(Verifies(requests[1], Secret, ChannelHost.Now + Duration.FromSeconds(30)));
    }

    [Fact]
    public async Task the_receivers_request_id_is_the_provider_id_when_it_gives_one()
    {
        receiver.Respond = _ => new Reply(202, Headers: new Dictionary<string, string> { ["X-Request-Id"] = "req-981" });

        Assert.Equal(new DeliveryAttempt.Sent("req-981"), await host.SendAsync(Message()));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(408)]
    [InlineData(429)]
    public async Task server_errors_timeouts_and_throttling_are_transient(int status)
    {
        receiver.Respond = _ => new Reply(status, "{\"error\":\"busy\"}");

        var failure = Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Message()));

        Assert.Contains(status.ToString(CultureInfo.InvariantCulture), failure.Reason);
        Assert.Contains("busy", failure.Reason);
    }

    [Fact]
    public async Task retry_after_is_passed_on_in_seconds_or_as_a_date()
    {
        receiver.Respond = _ => new Reply(429, Headers: new Dictionary<string, string> { ["Retry-After"] = "120" });
        Assert.Equal(Duration.FromSeconds(120), Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Message())).RetryAfter);

        receiver.Respond = _ => new Reply(503, Headers: new Dictionary<string, string> { ["Retry-After"] = "Tue, 01 Dec 2026 09:35:00 GMT" });
        Assert.Equal(Duration.FromMinutes(5), Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Message())).RetryAfter);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(410)]
    [InlineData(422)]
    public async Task other_client_errors_are_permanent(int status)
    {
        receiver.Respond = _ => new Reply(status, "{\"error\":\"unknown hook\"}");

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Message()));

        Assert.Contains(status.ToString(CultureInfo.InvariantCulture), failure.Reason);
    }

    [Fact]
    public async Task a_redirect_is_not_followed_and_is_permanent()
    {
        receiver.Respond = _ => new Reply(302, Headers: new Dictionary<string, string> { ["Location"] = "http://127.0.0.1:1/elsewhere" });

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Message()));

        Assert.Contains("redirects are not followed", failure.Reason);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task a_receiver_that_does_not_answer_in_time_is_a_transient_timeout()
    {
        receiver.Respond = _ => Reply.Hang;

        var failure = Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Message()));

        Assert.Contains("did not answer within 5 s", failure.Reason);
    }

    [Fact]
    public async Task a_refused_connection_is_transient()
    {
        var message = ChannelHost.Message(Channel.Webhook, $"http://127.0.0.1:{LocalSmtpServer.FreePort()}/hooks");

        var failure = Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(message));

        Assert.Contains("could not be reached", failure.Reason);
    }

    [Fact]
    public async Task a_workspace_without_a_secret_gets_no_unsigned_webhook()
    {
        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Message(workspace: "globex")));

        Assert.Contains("Journeys:Channels:Webhook:Secrets:globex", failure.Reason);
        Assert.Empty(receiver.Requests);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/hook")]
    [InlineData("/relative/hook")]
    public async Task an_address_that_is_no_http_url_is_permanent(string address)
    {
        Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(ChannelHost.Message(Channel.Webhook, address)));
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task a_huge_answer_is_not_read_whole()
    {
        var megabytes = new string('x', 3 * 1024 * 1024);
        receiver.Respond = _ => new Reply(200, megabytes, "text/plain");
        Assert.IsType<DeliveryAttempt.Sent>(await host.SendAsync(Message()));

        receiver.Respond = _ => new Reply(500, megabytes, "text/plain");
        var failure = Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Message()));
        Assert.True(failure.Reason.Length < 1000);
    }

    [Fact]
    public async Task concurrent_messages_each_arrive_once_with_their_own_key()
    {
        var messages = Enumerable.Range(0, 200).Select(_ => Guid.NewGuid())
            .Select(id => Message() with { MessageId = id, IdempotencyKey = OutgoingMessage.IdempotencyKeyFor(id) }).ToList();

        var attempts = await Task.WhenAll(messages.Select(host.SendAsync));

        Assert.All(attempts, a => Assert.IsType<DeliveryAttempt.Sent>(a));
        var requests = await receiver.WaitForAsync(200);
        Assert.Equal(messages.Select(m => m.IdempotencyKey).Order(), requests.Select(r => r.Header("Idempotency-Key")).Order());
        Assert.All(requests, r => Assert.True(Verifies(r, Secret, ChannelHost.Now)));
    }

    [Fact]
    public async Task with_allowed_hosts_a_webhook_goes_only_to_those()
    {
        await using var guarded = new ChannelHost(new Dictionary<string, string?>
        {
            ["Journeys:Channels:Webhook:Secrets:acme"] = Secret,
            ["Journeys:Channels:Webhook:AllowedHosts:0"] = "*.hooks.example.com",
            ["Journeys:Channels:Webhook:AllowedHosts:1"] = "localhost",
        });

        var refused = Assert.IsType<DeliveryAttempt.PermanentFailure>(await guarded.SendAsync(Message()));
        Assert.Contains("'127.0.0.1' is not among the hosts", refused.Reason);
        Assert.Empty(receiver.Requests);

        var port = new Uri(receiver.BaseUrl).Port;
        Assert.IsType<DeliveryAttempt.Sent>(await guarded.SendAsync(ChannelHost.Message(Channel.Webhook, $"http://localhost:{port}/hooks")));
        Assert.Single(await receiver.WaitForAsync(1));
    }
}
