using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedJourneys.Domain.Messages;
using Microsoft.Extensions.Options;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Channels.Fcm;

/// <summary>
/// Push through FCM HTTP v1: <c>POST {BaseUrl}/v1/projects/{ProjectId}/messages:send</c> with
/// <c>{"message": {"token", "notification": {"title", "body"}, "data"}}</c> and a bearer token; the provider id is the
/// answer's <c>name</c>. Web push uses the same API for tokens registered through FCM's web SDK (adding a
/// <c>webpush</c> notification block); browser push endpoints without FCM (raw VAPID) are not supported. FCM has no
/// idempotency header, so the message id travels in the data (<c>journeys_message_id</c>) for the app to drop
/// duplicates, and <c>Idempotency-Key</c> is sent for proxies that honour it.
/// </summary>
public sealed class FcmChannel(Channel channel, IHttpClientFactory clients, IOptionsMonitor<FcmOptions> options, IClock clock) : IChannelAdapter
{
    public const string HttpClientName = "journeys-fcm";
    public const string MessageIdDataKey = "journeys_message_id";

    public Channel Channel { get; } = channel is Channel.Push or Channel.WebPush
        ? channel
        : throw new ArgumentOutOfRangeException(nameof(channel), channel, "FCM sends push and webpush only.");

    public async Task<DeliveryAttempt> SendAsync(OutgoingMessage message, CancellationToken cancellation)
    {
        var settings = options.CurrentValue;
        if (string.IsNullOrEmpty(settings.ProjectId) || string.IsNullOrEmpty(settings.AccessToken))
            return new DeliveryAttempt.PermanentFailure($"{Channel.Name()} is not configured: set Journeys:Channels:Fcm:ProjectId and AccessToken.");
        if (!Addresses.IsPushToken(message.Address))
            return new DeliveryAttempt.PermanentFailure("The push token is empty, too long or contains whitespace.");

        var content = message.Content;
        var notification = new JsonObject { ["body"] = content.Body };
        if (content.Title is not null) notification["title"] = content.Title;
        var data = new JsonObject { [MessageIdDataKey] = message.MessageId.ToString() };
        foreach (var (key, value) in content.Data ?? new Dictionary<string, string>()) data[key] = value;
        var fcmMessage = new JsonObject
        {
            ["token"] = message.Address,
            ["notification"] = notification,
            ["data"] = data,
        };
        if (Channel == Channel.WebPush) fcmMessage["webpush"] = new JsonObject { ["notification"] = notification.DeepClone() };

        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"{settings.BaseUrl.TrimEnd('/')}/v1/projects/{Uri.EscapeDataString(settings.ProjectId)}/messages:send");
        request.Content = new StringContent(new JsonObject { ["message"] = fcmMessage }.ToJsonString(), new MediaTypeHeaderValue("application/json"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.AccessToken);
        request.Headers.Add("Idempotency-Key", message.IdempotencyKey);

        var (response, failure) = await HttpDelivery.TrySendAsync(clients.CreateClient(HttpClientName), request, "FCM", cancellation);
        if (failure is not null) return failure;
        using (response)
        {
            var body = await HttpDelivery.ReadBodyAsync(response!, cancellation);
            if (!response!.IsSuccessStatusCode) return HttpDelivery.Failure(response, "FCM", ErrorOf(body), clock.GetCurrentInstant());
            return HttpDelivery.JsonProperty(body, "name") is { Length: > 0 } name
                ? new DeliveryAttempt.Sent(name)
                : new DeliveryAttempt.PermanentFailure($"FCM answered {(int)response.StatusCode} without a message name: {HttpDelivery.Truncate(body)}");
        }
    }

    /// <summary>FCM's error answer: <c>{"error": {"code": 404, "message": "…", "status": "NOT_FOUND",
    /// "details": [{"errorCode": "UNREGISTERED"}]}}</c>.</summary>
    private static string ErrorOf(string body)
    {
        try
        {
            var error = JsonNode.Parse(body)?["error"];
            if (error is null) return body;
            var code = error["details"]?.AsArray().Select(d => d?["errorCode"]?.GetValue<string>()).FirstOrDefault(c => c is not null)
                       ?? error["status"]?.GetValue<string>();
            return $"{code} {error["message"]?.GetValue<string>()}".Trim();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return body;
        }
    }
}
