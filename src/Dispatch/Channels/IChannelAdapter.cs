using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Channels;

/// <summary>
/// One message on its way to one provider. <paramref name="IdempotencyKey"/> is the same on every attempt of the
/// message (it is what lets the provider drop a duplicate when an attempt's outcome was lost); <paramref name="Address"/>
/// is what the channel addresses: an email address, an E.164 phone number, a push token, a webhook URL.
/// </summary>
public sealed record OutgoingMessage(
    Guid MessageId,
    string IdempotencyKey,
    string Workspace,
    Guid ContactId,
    string Address,
    RenderedContent Content,
    Instant? DueAt = null)
{
    public Channel Channel => Content.Channel;

    /// <summary>The key for a message whose id is already unique per (rule version, triggering event, step).</summary>
    public static string IdempotencyKeyFor(Guid messageId) => $"msg_{messageId:N}";
}

/// <summary>How one attempt ended, classified so the engine knows whether to try again.</summary>
public abstract record DeliveryAttempt
{
    private DeliveryAttempt() { }

    /// <summary>The provider took the message; <paramref name="ProviderMessageId"/> is its id for receipts.</summary>
    public sealed record Sent(string ProviderMessageId) : DeliveryAttempt;

    /// <summary>Worth retrying with backoff: 5xx, 408, 429, timeouts, refused connections, SMTP 4xx.
    /// <paramref name="RetryAfter"/> is the provider's own wait (Retry-After) when it gave one.</summary>
    public sealed record TransientFailure(string Reason, Duration? RetryAfter = null) : DeliveryAttempt;

    /// <summary>Retrying cannot help: other 4xx, an invalid address, SMTP 5xx, a channel not configured.</summary>
    public sealed record PermanentFailure(string Reason) : DeliveryAttempt;
}

/// <summary>Sends rendered messages on one channel. Implementations never throw for a provider's answer or a
/// network failure — those are <see cref="DeliveryAttempt"/>s; only the caller's cancellation is thrown.</summary>
public interface IChannelAdapter
{
    Channel Channel { get; }

    Task<DeliveryAttempt> SendAsync(OutgoingMessage message, CancellationToken cancellation);
}
