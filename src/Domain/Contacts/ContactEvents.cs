using System.Text.Json;
using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Domain.Contacts;

/// <summary>Something recorded on a contact's stream by the tracking API.</summary>
public interface IContactEvent
{
    Guid ContactId { get; }
}

/// <summary>
/// One accepted call of the Segment-compatible tracking API. <see cref="Timestamp"/> is the event time (when it
/// happened, by the rules of <see cref="EventTime"/>), <see cref="ReceivedAt"/> when the server accepted it; the
/// arrival order is the event's sequence in the store. <see cref="MessageId"/> is the call's idempotency key.
/// </summary>
public interface ITrackingCall : IContactEvent
{
    string MessageId { get; }
    string? UserId { get; }
    string? AnonymousId { get; }
    JsonElement Context { get; }
    Instant Timestamp { get; }
    Instant ReceivedAt { get; }
}

/// <summary><c>track</c>: the contact did something (<c>"Order Completed"</c>).</summary>
public sealed record ContactTracked(
    Guid ContactId,
    string MessageId,
    string Event,
    JsonElement Properties,
    JsonElement Context,
    Instant Timestamp,
    Instant ReceivedAt,
    string? UserId,
    string? AnonymousId) : ITrackingCall;

/// <summary><c>identify</c>: who the contact is; <paramref name="Traits"/> as sent (the profile keeps the latest value of each).</summary>
public sealed record ContactIdentified(
    Guid ContactId,
    string MessageId,
    JsonElement Traits,
    JsonElement Context,
    Instant Timestamp,
    Instant ReceivedAt,
    string? UserId,
    string? AnonymousId) : ITrackingCall;

/// <summary><c>page</c>: a web page view.</summary>
public sealed record PageViewed(
    Guid ContactId,
    string MessageId,
    string? Name,
    string? Category,
    JsonElement Properties,
    JsonElement Context,
    Instant Timestamp,
    Instant ReceivedAt,
    string? UserId,
    string? AnonymousId) : ITrackingCall;

/// <summary><c>screen</c>: a mobile app screen view.</summary>
public sealed record ScreenViewed(
    Guid ContactId,
    string MessageId,
    string? Name,
    string? Category,
    JsonElement Properties,
    JsonElement Context,
    Instant Timestamp,
    Instant ReceivedAt,
    string? UserId,
    string? AnonymousId) : ITrackingCall;

/// <summary><c>group</c>: the contact belongs to an account, company or team.</summary>
public sealed record ContactGrouped(
    Guid ContactId,
    string MessageId,
    string GroupId,
    JsonElement Traits,
    JsonElement Context,
    Instant Timestamp,
    Instant ReceivedAt,
    string? UserId,
    string? AnonymousId) : ITrackingCall;

/// <summary><c>alias</c>: <paramref name="PreviousId"/> and <paramref name="UserId"/> are the same person.</summary>
public sealed record ContactAliased(
    Guid ContactId,
    string MessageId,
    string PreviousId,
    string UserId,
    JsonElement Context,
    Instant Timestamp,
    Instant ReceivedAt) : ITrackingCall
{
    public string? AnonymousId => null;
    string? ITrackingCall.UserId => UserId;
}

/// <summary>The contact is now known under <paramref name="Identity"/> (the first of a new contact, or a link by identify/alias).</summary>
public sealed record IdentityLinked(Guid ContactId, Identity Identity, string MessageId, Instant Timestamp) : IContactEvent;

/// <summary>
/// Another contact turned out to be this one: its identities now point here and its history (which stays on its own
/// stream) is part of this contact's. <paramref name="MessageId"/> is the identify or alias call that showed it.
/// </summary>
public sealed record ContactMerged(
    Guid ContactId,
    Guid MergedContactId,
    IReadOnlyList<Identity> Identities,
    string MessageId,
    Instant Timestamp) : IContactEvent;

/// <summary>This contact was merged into <paramref name="IntoContactId"/>; later calls under its identities go there.</summary>
public sealed record ContactMergedInto(Guid ContactId, Guid IntoContactId, string MessageId, Instant Timestamp) : IContactEvent;

public enum SubscriptionStatus
{
    Subscribed,
    Unsubscribed,
}

/// <summary>
/// The contact's consent on a channel changed, by a <c>track "Subscribed"/"Unsubscribed"</c> call or an identify
/// with <c>traits.subscriptions</c>. <paramref name="MessageId"/> names that call; <paramref name="Timestamp"/> is its event time.
/// </summary>
public sealed record ChannelSubscriptionChanged(
    Guid ContactId,
    Channel Channel,
    SubscriptionStatus Status,
    string MessageId,
    string Source,
    Instant Timestamp) : IContactEvent;
