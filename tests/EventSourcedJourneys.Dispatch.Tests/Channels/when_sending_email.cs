using EventSourcedJourneys.Dispatch.Channels;
using EventSourcedJourneys.Domain.Messages;
using MimeKit;
using SmtpServer.Protocol;

namespace EventSourcedJourneys.Dispatch.Tests.Channels;

public sealed class when_sending_email : IAsyncLifetime
{
    private LocalSmtpServer smtp = null!;
    private ChannelHost host = null!;

    public ValueTask InitializeAsync()
    {
        smtp = LocalSmtpServer.Start();
        host = Host(smtp.Port);
        return ValueTask.CompletedTask;
    }

    private static ChannelHost Host(int port, string? user = null, string? password = null, string security = "None") => new(new Dictionary<string, string?>
    {
        ["Journeys:Channels:Smtp:UserName"] = user,
        ["Journeys:Channels:Smtp:Password"] = password,
        ["Journeys:Channels:Smtp:Host"] = "127.0.0.1",
        ["Journeys:Channels:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Journeys:Channels:Smtp:Security"] = security,
        ["Journeys:Channels:Smtp:FromAddress"] = "hello@acme.example",
        ["Journeys:Channels:Smtp:FromName"] = "Acme",
        ["Journeys:Channels:Smtp:TimeoutSeconds"] = "5",
    });

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        await smtp.DisposeAsync();
    }

    private static OutgoingMessage Email(string address = "ann@example.com") => ChannelHost.Message(Channel.Email, address,
        "Hi Ann, your cart is waiting.", subject: "Ann, your cart misses you", html: "<p>Hi Ann, your cart is <b>waiting</b>.</p>");

    private async Task<ReceivedMail> OneMailAsync() => Assert.Single(await smtp.WaitForAsync(1));

    [Fact]
    public async Task the_mail_arrives_with_subject_both_bodies_and_a_message_id_from_the_idempotency_key()
    {
        var attempt = await host.SendAsync(Email());

        var sent = Assert.IsType<DeliveryAttempt.Sent>(attempt);
        var mail = await OneMailAsync();
        Assert.Equal("hello@acme.example", mail.From);
        Assert.Equal(["ann@example.com"], mail.To);
        var message = mail.Message;
        Assert.Equal("Ann, your cart misses you", message.Subject);
        Assert.Equal("Acme", ((MailboxAddress)message.From.Single()).Name);
        Assert.Equal("Hi Ann, your cart is waiting.", message.TextBody?.Trim());
        Assert.Equal("<p>Hi Ann, your cart is <b>waiting</b>.</p>", message.HtmlBody?.Trim());
        Assert.Equal($"journeys.msg_{ChannelHost.MessageId:N}@acme.example", message.MessageId);
        Assert.Equal(message.MessageId, sent.ProviderMessageId);
        Assert.Equal(ChannelHost.MessageId.ToString(), message.Headers["X-Journeys-Message-Id"]);
        Assert.Equal("cart-reminder/2", message.Headers["X-Journeys-Template"]);
        Assert.Equal(ChannelHost.Now.ToDateTimeOffset(), message.Date);
    }

    [Fact]
    public async Task a_retry_carries_the_same_message_id()
    {
        var refused = false;
        smtp.Answer = () =>
        {
            if (refused) return SmtpResponse.Ok;
            refused = true;
            return new SmtpResponse(SmtpReplyCode.Unavailable, "4.2.0 try again later");
        };

        var first = await host.SendAsync(Email());
        var second = await host.SendAsync(Email());

        Assert.IsType<DeliveryAttempt.TransientFailure>(first);
        var sent = Assert.IsType<DeliveryAttempt.Sent>(second);
        Assert.Equal(sent.ProviderMessageId, (await OneMailAsync()).Message.MessageId);
    }

    [Fact]
    public async Task a_5xx_refusal_is_permanent()
    {
        smtp.Answer = () => new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 mailbox does not exist");

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Email()));

        Assert.Contains("550", failure.Reason);
        Assert.Contains("mailbox does not exist", failure.Reason);
    }

    [Fact]
    public async Task a_4xx_refusal_is_transient()
    {
        smtp.Answer = () => new SmtpResponse(SmtpReplyCode.InsufficientStorage, "4.3.1 insufficient system storage");

        var failure = Assert.IsType<DeliveryAttempt.TransientFailure>(await host.SendAsync(Email()));

        Assert.Contains("452", failure.Reason);
    }

    [Fact]
    public async Task a_server_that_is_not_there_is_transient()
    {
        await using var nowhere = Host(LocalSmtpServer.FreePort());

        var failure = Assert.IsType<DeliveryAttempt.TransientFailure>(await nowhere.SendAsync(Email()));

        Assert.Contains("could not be reached", failure.Reason);
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("ann")]
    public async Task an_invalid_address_is_permanent_and_nothing_is_sent(string address)
    {
        Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Email(address)));
        Assert.Empty(smtp.Received);
    }

    [Fact]
    public void a_key_with_characters_a_message_id_cannot_hold_keeps_a_hash_of_the_original()
    {
        var a = Dispatch.Channels.Smtp.SmtpChannel.MessageIdFor("rule:v1/evt 42", "acme.example");
        var b = Dispatch.Channels.Smtp.SmtpChannel.MessageIdFor("rule-v1-evt-42", "acme.example");

        Assert.NotEqual(a, b);
        Assert.Matches(@"^journeys\.[A-Za-z0-9._-]+@acme\.example$", a);
        Assert.Equal("journeys.rule-v1-evt-42@acme.example", b);
    }

    [Fact]
    public async Task configured_credentials_are_used_and_refused_ones_are_permanent()
    {
        await using var guarded = LocalSmtpServer.Start(("journeys", "s3cret"));
        await using var right = Host(guarded.Port, "journeys", "s3cret");
        await using var wrong = Host(guarded.Port, "journeys", "guess");
        await using var none = Host(guarded.Port);

        Assert.IsType<DeliveryAttempt.Sent>(await right.SendAsync(Email()));
        var refused = Assert.IsType<DeliveryAttempt.PermanentFailure>(await wrong.SendAsync(Email()));
        Assert.Contains("credentials", refused.Reason);
        Assert.IsType<DeliveryAttempt.PermanentFailure>(await none.SendAsync(Email()));
        Assert.Single(await guarded.WaitForAsync(1));
    }

    [Fact]
    public async Task requiring_starttls_from_a_relay_without_it_is_permanent_and_sends_nothing_in_clear()
    {
        await using var strict = Host(smtp.Port, security: "StartTls");

        var failure = Assert.IsType<DeliveryAttempt.PermanentFailure>(await strict.SendAsync(Email()));

        Assert.Contains("STARTTLS", failure.Reason);
        Assert.Empty(smtp.Received);
    }

    [Fact]
    public async Task consecutive_messages_share_one_connection()
    {
        for (var i = 0; i < 3; i++) Assert.IsType<DeliveryAttempt.Sent>(await host.SendAsync(Email($"contact{i}@example.com")));

        Assert.Equal(3, (await smtp.WaitForAsync(3)).Count);
        Assert.Equal(1, smtp.SessionsStarted);
    }

    [Fact]
    public async Task a_connection_the_relay_closed_while_idle_is_replaced()
    {
        await using var impatient = LocalSmtpServer.Start(idleTimeout: TimeSpan.FromSeconds(2)); // long enough for a loaded machine to finish a send
        await using var sender = Host(impatient.Port);

        Assert.IsType<DeliveryAttempt.Sent>(await sender.SendAsync(Email("first@example.com")));
        await impatient.WaitForSessionsEndedAsync(1);
        Assert.IsType<DeliveryAttempt.Sent>(await sender.SendAsync(Email("second@example.com")));

        Assert.Equal(["first@example.com", "second@example.com"], (await impatient.WaitForAsync(2)).Select(m => m.To.Single()));
        Assert.Equal(2, impatient.SessionsStarted);
    }

    [Fact]
    public async Task a_refused_message_does_not_spoil_the_next_one()
    {
        var refuseNext = true;
        smtp.Answer = () =>
        {
            if (!refuseNext) return SmtpResponse.Ok;
            refuseNext = false;
            return new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 no such user");
        };

        Assert.IsType<DeliveryAttempt.PermanentFailure>(await host.SendAsync(Email("gone@example.com")));
        Assert.IsType<DeliveryAttempt.Sent>(await host.SendAsync(Email("ann@example.com")));

        Assert.Equal("ann@example.com", Assert.Single(await smtp.WaitForAsync(1)).To.Single());
    }

    [Fact]
    public async Task concurrent_messages_use_at_most_the_configured_connections()
    {
        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => host.SendAsync(Email($"contact{i}@example.com"))));

        Assert.All(attempts, a => Assert.IsType<DeliveryAttempt.Sent>(a));
        Assert.Equal(20, (await smtp.WaitForAsync(20)).Select(m => m.To.Single()).Distinct().Count());
        Assert.InRange(smtp.SessionsStarted, 1, 4);
    }
}
