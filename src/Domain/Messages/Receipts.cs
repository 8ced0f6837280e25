using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using NodaTime;

namespace EventSourcedJourneys.Domain.Messages;

public enum ReceiptKind
{
    Delivered,
    Opened,
    Clicked,
    Bounced,
    Unsubscribed,
}

/// <summary>
/// A tracking call that reports on one of our messages: the kind, and the message it names — by our message id
/// (<see cref="MessageId"/>) or by the id the provider gave it (<see cref="ProviderMessageId"/>).
/// </summary>
public sealed record ReceiptReference(ReceiptKind Kind, Guid? MessageId, string? ProviderMessageId, string? Url, string? Reason);

/// <summary>The message a receipt names, as the store knows it.</summary>
public sealed record ReceiptTarget(Guid MessageId, Guid ContactId, Channel Channel);

/// <summary>
/// Receipts and engagement arrive as <c>track</c> calls with reserved event names, in the spirit of Segment's own
/// specs (Email, Push and SMS engagement events), naming the message in <c>properties.message_id</c> (ADR 0009).
/// </summary>
public static class Receipts
{
    /// <summary>The reserved event names; matched without regard to case, as the consent events are.</summary>
    public static readonly IReadOnlyDictionary<string, ReceiptKind> EventNames =
        new Dictionary<string, ReceiptKind>(StringComparer.OrdinalIgnoreCase)
        {
            ["Email Delivered"] = ReceiptKind.Delivered,
            ["Push Notification Received"] = ReceiptKind.Delivered,
            ["SMS Delivered"] = ReceiptKind.Delivered,
            ["Message Delivered"] = ReceiptKind.Delivered,
            ["Email Opened"] = ReceiptKind.Opened,
            ["Push Notification Opened"] = ReceiptKind.Opened,
            ["Push Notification Tapped"] = ReceiptKind.Opened,
            ["Message Opened"] = ReceiptKind.Opened,
            ["Email Link Clicked"] = ReceiptKind.Clicked,
            ["SMS Link Clicked"] = ReceiptKind.Clicked,
            ["Message Link Clicked"] = ReceiptKind.Clicked,
            ["Email Bounced"] = ReceiptKind.Bounced,
            ["Push Notification Bounced"] = ReceiptKind.Bounced,
            ["SMS Bounced"] = ReceiptKind.Bounced,
            ["Message Bounced"] = ReceiptKind.Bounced,
            ["Unsubscribed"] = ReceiptKind.Unsubscribed,
            ["Email Unsubscribed"] = ReceiptKind.Unsubscribed,
        };

    /// <summary>
    /// The receipt a <c>track</c> call carries, or null when its name is not reserved or it names no message.
    /// <c>properties.message_id</c> is our message id (a UUID) or, failing that, the provider's id;
    /// <c>properties.provider_message_id</c> names the provider's id explicitly.
    /// </summary>
    public static ReceiptReference? Read(string eventName, JsonElement properties)
    {
        if (!EventNames.TryGetValue(eventName, out var kind)) return null;
        var messageId = Text(properties, "message_id");
        var providerId = Text(properties, "provider_message_id");
        Guid? ours = null;
        if (messageId is not null)
        {
            if (Guid.TryParse(messageId, out var id)) ours = id;
            else providerId ??= messageId;
        }
        if (ours is null && providerId is null) return null;
        return new ReceiptReference(kind, ours, providerId,
            kind == ReceiptKind.Clicked ? Text(properties, "link_url") ?? Text(properties, "url") : null,
            kind == ReceiptKind.Bounced ? Text(properties, "reason") ?? Text(properties, "bounce_type") : null);
    }

    /// <summary>The events that record <paramref name="receipt"/> on the stream of the message's contact.</summary>
    public static IReadOnlyList<object> EventsFor(ReceiptReference receipt, ReceiptTarget message, string receiptMessageId, string eventName,
        Instant at) => receipt.Kind switch
    {
        ReceiptKind.Delivered => [new MessageDelivered(message.ContactId, message.MessageId, receiptMessageId, at)],
        ReceiptKind.Opened => [new MessageOpened(message.ContactId, message.MessageId, receiptMessageId, at)],
        ReceiptKind.Clicked => [new MessageClicked(message.ContactId, message.MessageId, receipt.Url, receiptMessageId, at)],
        ReceiptKind.Bounced => [new MessageBounced(message.ContactId, message.MessageId, receipt.Reason, receiptMessageId, at)],
        ReceiptKind.Unsubscribed =>
        [
            new MessageUnsubscribed(message.ContactId, message.MessageId, message.Channel, receiptMessageId, at),
            new ChannelSubscriptionChanged(message.ContactId, message.Channel, SubscriptionStatus.Unsubscribed, receiptMessageId,
                $"track \"{eventName}\" for message {message.MessageId}", at),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(receipt), receipt.Kind, "Unknown receipt kind."),
    };

    private static string? Text(JsonElement properties, string name) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : null;
}
