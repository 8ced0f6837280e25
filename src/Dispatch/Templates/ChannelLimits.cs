using System.Text;
using EventSourcedJourneys.Domain.Messages;

namespace EventSourcedJourneys.Dispatch.Templates;

/// <summary>
/// The most a channel's provider accepts, checked on the rendered output so that an over-long message fails as a
/// rendering failure the marketer can read, not as a provider's 400.
/// </summary>
public static class ChannelLimits
{
    /// <summary>Twilio's limit for an SMS or WhatsApp body (it splits SMS into segments up to this length).</summary>
    public const int TextMessageCharacters = 1600;

    /// <summary>RFC 5322's line limit, for a subject that is sent on one header line.</summary>
    public const int SubjectCharacters = 998;

    public const int EmailBodyCharacters = 1_000_000;

    /// <summary>FCM's payload limit: title, body and data together, in UTF-8 bytes.</summary>
    public const int PushPayloadBytes = 4096;

    public const int InAppCharacters = 10_000;

    public const int WebhookBodyCharacters = 256 * 1024;

    public const int TitleCharacters = 256;

    /// <summary>The most characters <paramref name="field"/> may render to on <paramref name="channel"/>.</summary>
    public static int MaxCharacters(Channel channel, string field) => (channel, field) switch
    {
        (Channel.Email, "subject") => SubjectCharacters,
        (Channel.Email, _) => EmailBodyCharacters,
        (Channel.Sms or Channel.WhatsApp, _) => TextMessageCharacters,
        (_, "title") => TitleCharacters,
        (Channel.Push or Channel.WebPush, _) => PushPayloadBytes,
        (Channel.InApp, _) => InAppCharacters,
        _ => WebhookBodyCharacters,
    };

    /// <summary>The payload size FCM counts: the UTF-8 bytes of title, body and data keys and values.</summary>
    public static int PushPayloadSize(RenderedContent content)
    {
        var size = Encoding.UTF8.GetByteCount(content.Title ?? "") + Encoding.UTF8.GetByteCount(content.Body);
        foreach (var (key, value) in content.Data ?? new Dictionary<string, string>())
            size += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
        return size;
    }
}
