using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using EventSourcedJourneys.Domain.Messages;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Channels.Smtp;

/// <summary>
/// Email through an SMTP relay with MailKit. The Message-ID is derived from the idempotency key, so every attempt of
/// a message carries the same one and receiving systems (and the relay's duplicate detection) can tell a retry from a
/// new message; it is also the provider id. SMTP's own classes decide retries: 4xx transient, 5xx permanent.
/// Connections are kept for reuse (at most <see cref="SmtpOptions.MaxConnections"/>, idle at most
/// <see cref="SmtpOptions.IdleSeconds"/>, checked with NOOP before reuse); one that failed in any way is closed.
/// </summary>
public sealed class SmtpChannel(IOptionsMonitor<SmtpOptions> options, IClock clock) : IChannelAdapter, IDisposable
{
    private readonly ConcurrentBag<IdleConnection> idle = [];
    private readonly SemaphoreSlim slots = new(Math.Max(1, options.CurrentValue.MaxConnections));

    private sealed record IdleConnection(SmtpClient Client, string Settings, long IdleSince);

    public Channel Channel => Channel.Email;

    public async Task<DeliveryAttempt> SendAsync(OutgoingMessage message, CancellationToken cancellation)
    {
        var settings = options.CurrentValue;
        if (string.IsNullOrEmpty(settings.Host) || !MailboxAddress.TryParse(settings.FromAddress ?? "", out var from))
            return new DeliveryAttempt.PermanentFailure("email is not configured: set Journeys:Channels:Smtp:Host and FromAddress.");
        if (!MailboxAddress.TryParse(message.Address, out var to) || !to.Address.Contains('@'))
            return new DeliveryAttempt.PermanentFailure($"'{message.Address}' is not an email address.");
        if (!string.IsNullOrEmpty(settings.FromName)) from.Name = settings.FromName;

        var messageId = MessageIdFor(message.IdempotencyKey, settings.MessageIdDomain ?? from.Domain);
        var mail = Compose(message, from, to, messageId, clock.GetCurrentInstant());
        await slots.WaitAsync(cancellation);
        SmtpClient? client = null;
        try
        {
            client = await ConnectionAsync(settings, cancellation);
            await client.SendAsync(mail, cancellation);
            idle.Add(new IdleConnection(client, Key(settings), Environment.TickCount64));
            client = null;
            return new DeliveryAttempt.Sent(messageId);
        }
        catch (SmtpCommandException e)
        {
            var code = (int)e.StatusCode;
            var reason = $"The SMTP server refused the {What(e.ErrorCode)} with {code}: {e.Message.Trim()}";
            return code is >= 400 and < 500
                ? new DeliveryAttempt.TransientFailure(reason)
                : new DeliveryAttempt.PermanentFailure(reason);
        }
        catch (AuthenticationException e)
        {
            return new DeliveryAttempt.PermanentFailure($"The SMTP server refused the credentials: {e.Message}");
        }
        catch (ServiceNotAuthenticatedException e)
        {
            return new DeliveryAttempt.PermanentFailure(
                $"The SMTP server requires authentication ({e.Message}): set Journeys:Channels:Smtp:UserName and Password.");
        }
        catch (NotSupportedException e)
        {
            // E.g. Security StartTls against a relay without STARTTLS: the settings and the server disagree.
            return new DeliveryAttempt.PermanentFailure($"The SMTP server does not support what the settings ask: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return new DeliveryAttempt.TransientFailure($"The SMTP server did not answer within {settings.TimeoutSeconds:0.#} s.");
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException or SmtpProtocolException
                                      or SslHandshakeException or ServiceNotConnectedException)
        {
            // The connection failed or broke: the server may come back, and the same Message-ID goes with the retry.
            return new DeliveryAttempt.TransientFailure($"The SMTP server could not be reached or dropped the connection ({e.GetType().Name}: {e.Message})");
        }
        finally
        {
            if (client is not null) Close(client);
            slots.Release();
        }
    }

    /// <summary>An idle connection to the same relay with the same settings that still answers NOOP, or a new one.</summary>
    private async Task<SmtpClient> ConnectionAsync(SmtpOptions settings, CancellationToken cancellation)
    {
        var key = Key(settings);
        var maxIdle = (long)(Math.Max(0, settings.IdleSeconds) * 1000);
        while (idle.TryTake(out var connection))
        {
            if (connection.Settings == key && Environment.TickCount64 - connection.IdleSince <= maxIdle && connection.Client.IsConnected)
            {
                try
                {
                    await connection.Client.NoOpAsync(cancellation);
                    return connection.Client;
                }
                catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or IOException or SocketException
                                              or ServiceNotConnectedException)
                {
                    // The relay closed it while idle; a new connection follows.
                }
            }
            Close(connection.Client);
        }

        var client = new SmtpClient { Timeout = (int)HttpDelivery.Timeout(settings.TimeoutSeconds).TotalMilliseconds };
        try
        {
            await client.ConnectAsync(settings.Host!, settings.Port, ToMailKit(settings.Security), cancellation);
            if (!string.IsNullOrEmpty(settings.UserName))
                await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellation);
            return client;
        }
        catch
        {
            Close(client);
            throw;
        }
    }

    private static string Key(SmtpOptions s) => string.Join('\u0000', s.Host, s.Port, s.Security, s.UserName, s.Password, s.TimeoutSeconds);

    private static void Close(SmtpClient client)
    {
        try
        {
            if (client.IsConnected) client.Disconnect(quit: false);
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or ServiceNotConnectedException)
        {
            // Already gone.
        }
        client.Dispose();
    }

    public void Dispose()
    {
        while (idle.TryTake(out var connection)) Close(connection.Client);
        slots.Dispose();
    }

    /// <summary>
    /// <c>&lt;journeys.{key}@{domain}&gt;</c>, with the key reduced to characters a Message-ID may hold; a key that had
    /// others keeps a hash of the original, so two keys never share one id.
    /// </summary>
    public static string MessageIdFor(string idempotencyKey, string domain)
    {
        var safe = new string(idempotencyKey.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-').ToArray());
        if (safe != idempotencyKey)
            safe += "." + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..16].ToLowerInvariant();
        return $"journeys.{safe}@{domain}";
    }

    private static MimeMessage Compose(OutgoingMessage message, MailboxAddress from, MailboxAddress to, string messageId, Instant now)
    {
        var content = message.Content;
        var mail = new MimeMessage
        {
            MessageId = messageId,
            Subject = content.Subject ?? "",
            Date = now.ToDateTimeOffset(),
        };
        mail.From.Add(from);
        mail.To.Add(to);
        mail.Headers.Add("X-Journeys-Message-Id", message.MessageId.ToString());
        mail.Headers.Add("X-Journeys-Template", $"{content.Template}/{content.TemplateVersion}");
        mail.Body = new BodyBuilder { TextBody = content.Body, HtmlBody = content.Html }.ToMessageBody();
        return mail;
    }

    private static string What(SmtpErrorCode type) => type switch
    {
        SmtpErrorCode.SenderNotAccepted => "sender",
        SmtpErrorCode.RecipientNotAccepted => "recipient",
        SmtpErrorCode.MessageNotAccepted => "message",
        _ => "command",
    };

    private static SecureSocketOptions ToMailKit(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.StartTlsWhenAvailable => SecureSocketOptions.StartTlsWhenAvailable,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };
}
