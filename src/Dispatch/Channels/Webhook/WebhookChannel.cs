using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Time;
using Microsoft.Extensions.Options;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Channels.Webhook;

/// <summary>The signing secret of each workspace's webhooks; from configuration unless replaced (e.g. by one that
/// reads the workspace's settings).</summary>
public interface IWebhookSecrets
{
    ValueTask<string?> SecretForAsync(string workspace, CancellationToken cancellation);
}

public sealed class ConfiguredWebhookSecrets(IOptionsMonitor<WebhookOptions> options) : IWebhookSecrets
{
    public ValueTask<string?> SecretForAsync(string workspace, CancellationToken cancellation) =>
        ValueTask.FromResult(options.CurrentValue.Secrets.TryGetValue(workspace, out var secret) && !string.IsNullOrEmpty(secret) ? secret : null);
}

/// <summary>What a webhook receiver gets: the message, who it is for, and its rendered content.</summary>
public sealed record WebhookEnvelope(
    Guid Id,
    string Type,
    string IdempotencyKey,
    string Workspace,
    Guid ContactId,
    Channel Channel,
    WebhookTemplate Template,
    WebhookContent Content,
    Instant? DueAt,
    Instant SentAt);

public sealed record WebhookTemplate(string Name, int Version);

public sealed record WebhookContent(string? Subject, string Body, string? Html, string? Title, IReadOnlyDictionary<string, string>? Data);

/// <summary>
/// POSTs a signed JSON envelope to the contact's webhook URL. Unsigned webhooks are never sent: a workspace without a
/// secret gets a permanent failure naming the setting.
/// </summary>
public sealed class WebhookChannel(IHttpClientFactory clients, IWebhookSecrets secrets, IOptionsMonitor<WebhookOptions> options, IClock clock)
    : IChannelAdapter
{
    public const string HttpClientName = "journeys-webhook";
    private static readonly JsonSerializerOptions Json = JourneysJson.Create();

    public Channel Channel => Channel.Webhook;

    public async Task<DeliveryAttempt> SendAsync(OutgoingMessage message, CancellationToken cancellation)
    {
        if (!Addresses.IsWebhookUrl(message.Address))
            return new DeliveryAttempt.PermanentFailure($"'{message.Address}' is not an absolute http(s) URL.");
        if (!IsAllowed(new Uri(message.Address).IdnHost, options.CurrentValue.AllowedHosts))
            return new DeliveryAttempt.PermanentFailure(
                $"'{new Uri(message.Address).Host}' is not among the hosts webhooks may go to (Journeys:Channels:Webhook:AllowedHosts).");
        if (await secrets.SecretForAsync(message.Workspace, cancellation) is not { } secret)
            return new DeliveryAttempt.PermanentFailure(
                $"Workspace '{message.Workspace}' has no webhook secret (Journeys:Channels:Webhook:Secrets:{message.Workspace}); unsigned webhooks are not sent.");

        var now = clock.GetCurrentInstant();
        var content = message.Content;
        var envelope = new WebhookEnvelope(message.MessageId, "message", message.IdempotencyKey, message.Workspace, message.ContactId,
            content.Channel, new WebhookTemplate(content.Template, content.TemplateVersion),
            new WebhookContent(content.Subject, content.Body, content.Html, content.Title, content.Data), message.DueAt, now);
        var body = JsonSerializer.SerializeToUtf8Bytes(envelope, Json);
        var timestamp = now.ToUnixTimeSeconds();

        using var request = new HttpRequestMessage(HttpMethod.Post, message.Address);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, body));
        request.Headers.Add("Idempotency-Key", message.IdempotencyKey);
        request.Headers.Add("X-Journeys-Message-Id", message.MessageId.ToString());

        var (response, failure) = await HttpDelivery.TrySendAsync(clients.CreateClient(HttpClientName), request, "The webhook", cancellation);
        if (failure is not null) return failure;
        using (response)
        {
            if (!response!.IsSuccessStatusCode)
                return HttpDelivery.Failure(response, "The webhook", await HttpDelivery.ReadBodyAsync(response, cancellation), now);
            // A receiver's own request id when it gives one; otherwise the message is known by its own id.
            return new DeliveryAttempt.Sent(response.Headers.TryGetValues("X-Request-Id", out var ids) && ids.FirstOrDefault() is { Length: > 0 } id
                ? id
                : message.MessageId.ToString());
        }
    }

    private static bool IsAllowed(string host, IReadOnlyList<string> allowed) =>
        allowed.Count == 0 || allowed.Any(pattern => pattern.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)
            : string.Equals(host, pattern, StringComparison.OrdinalIgnoreCase));
}
