using System.Net.Http.Headers;
using System.Text;
using EventSourcedJourneys.Domain.Messages;
using Microsoft.Extensions.Options;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Channels.Twilio;

/// <summary>
/// SMS or WhatsApp through Twilio's Messages API: <c>POST {BaseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json</c>,
/// form-encoded To/From/Body, HTTP Basic with the account SID and auth token, Twilio's idempotency header
/// (<c>I-Twilio-Idempotency-Token</c>) and <c>Idempotency-Key</c>. The provider id is the answer's <c>sid</c>.
/// WhatsApp addresses take Twilio's <c>whatsapp:</c> prefix on both sides.
/// </summary>
public sealed class TwilioChannel(Channel channel, IHttpClientFactory clients, IOptionsMonitor<TwilioOptions> options, IClock clock)
    : IChannelAdapter
{
    public const string HttpClientName = "journeys-twilio";

    public Channel Channel { get; } = channel is Channel.Sms or Channel.WhatsApp
        ? channel
        : throw new ArgumentOutOfRangeException(nameof(channel), channel, "Twilio sends sms and whatsapp only.");

    public async Task<DeliveryAttempt> SendAsync(OutgoingMessage message, CancellationToken cancellation)
    {
        var settings = options.CurrentValue;
        var from = Channel == Channel.Sms ? settings.SmsFrom : settings.WhatsAppFrom;
        if (string.IsNullOrEmpty(settings.AccountSid) || string.IsNullOrEmpty(settings.AuthToken) || string.IsNullOrEmpty(from))
            return new DeliveryAttempt.PermanentFailure(
                $"{Channel.Name()} is not configured: set Journeys:Channels:Twilio:AccountSid, AuthToken and {(Channel == Channel.Sms ? "SmsFrom" : "WhatsAppFrom")}.");

        var to = message.Address.StartsWith("whatsapp:", StringComparison.Ordinal) ? message.Address["whatsapp:".Length..] : message.Address;
        if (!Addresses.IsPhoneNumber(to))
            return new DeliveryAttempt.PermanentFailure($"'{message.Address}' is not a phone number in E.164 form (+14155550100).");
        var prefix = Channel == Channel.WhatsApp ? "whatsapp:" : "";

        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"{settings.BaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(settings.AccountSid)}/Messages.json");
        request.Content = new FormUrlEncodedContent([
            new("To", prefix + to),
            new("From", prefix + from),
            new("Body", message.Content.Body),
        ]);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}")));
        request.Headers.Add("I-Twilio-Idempotency-Token", message.IdempotencyKey);
        request.Headers.Add("Idempotency-Key", message.IdempotencyKey);

        var (response, failure) = await HttpDelivery.TrySendAsync(clients.CreateClient(HttpClientName), request, "Twilio", cancellation);
        if (failure is not null) return failure;
        using (response)
        {
            var body = await HttpDelivery.ReadBodyAsync(response!, cancellation);
            if (!response!.IsSuccessStatusCode) return HttpDelivery.Failure(response, "Twilio", ErrorOf(body), clock.GetCurrentInstant());
            return HttpDelivery.JsonProperty(body, "sid") is { Length: > 0 } sid
                ? new DeliveryAttempt.Sent(sid)
                : new DeliveryAttempt.PermanentFailure($"Twilio answered {(int)response.StatusCode} without a message sid: {HttpDelivery.Truncate(body)}");
        }
    }

    /// <summary>Twilio's error answer: <c>{"code": 21211, "message": "The 'To' number … is not a valid phone number."}</c>.</summary>
    private static string ErrorOf(string body) =>
        HttpDelivery.JsonProperty(body, "message") is { } text ? (HttpDelivery.JsonProperty(body, "code") is { } code ? $"{code} {text}" : text) : body;
}
