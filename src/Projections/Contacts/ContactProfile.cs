using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using JasperFx.Events;
using Marten.Events.Aggregation;
using NodaTime;

namespace EventSourcedJourneys.Projections.Contacts;

/// <summary>A device that can receive push notifications, from <c>context.device.token</c>.</summary>
public sealed record PushToken(string Token, string? Platform, Instant LastSeenAt);

/// <summary>Where the contact can be reached: <c>traits.email</c>, <c>traits.phone</c>, push tokens of their devices.</summary>
public sealed record ChannelAddresses(string? Email, string? Phone, IReadOnlyList<PushToken> PushTokens)
{
    public static readonly ChannelAddresses None = new(null, null, []);
}

/// <summary>Consent on one channel and the event that set it.</summary>
/// <remarks>The event is named by its id (and the call by its messageId): under Marten's quick append the sequence
/// is assigned by the database after inline projections ran, so it is not known here.</remarks>
public sealed record ChannelSubscription(SubscriptionStatus Status, Instant ChangedAt, string MessageId, Guid EventId);

/// <summary>The latest context the contact was seen with (by event time), with the fields rules and send windows use.</summary>
public sealed record LatestContext(Instant At, string? TimeZone, string? Locale, JsonElement Context);

/// <summary>
/// One contact stream's profile. Traits keep the latest value by event time (<see cref="TraitTimes"/>); their history
/// is the events. A contact that absorbed others by merges lists them in <see cref="MergedContactIds"/>: read the
/// whole person with <see cref="ContactProfiles.LoadAsync"/>.
/// </summary>
public sealed record ContactProfile
{
    public Guid Id { get; init; }
    public IReadOnlyList<string> UserIds { get; init; } = [];
    public IReadOnlyList<string> AnonymousIds { get; init; } = [];
    public IReadOnlyDictionary<string, JsonElement> Traits { get; init; } = new Dictionary<string, JsonElement>();
    public IReadOnlyDictionary<string, Instant> TraitTimes { get; init; } = new Dictionary<string, Instant>();
    public Instant? FirstSeenAt { get; init; }
    public Instant? LastSeenAt { get; init; }
    public Instant? LastReceivedAt { get; init; }
    public LatestContext? LatestContext { get; init; }
    public ChannelAddresses Addresses { get; init; } = ChannelAddresses.None;

    /// <summary>By channel name (<c>email</c>, <c>sms</c>, <c>push</c>…); a channel not listed was never changed (subscribed by default).</summary>
    public IReadOnlyDictionary<string, ChannelSubscription> Subscriptions { get; init; } = new Dictionary<string, ChannelSubscription>();

    public IReadOnlyList<string> Groups { get; init; } = [];
    public long Events { get; init; }
    public IReadOnlyList<Guid> MergedContactIds { get; init; } = [];
    public Guid? MergedInto { get; init; }

    public IEnumerable<Identity> Identities =>
        UserIds.Select(Identity.User).Concat(AnonymousIds.Select(Identity.Anonymous));

    /// <summary>What delivery decisions need: an address per channel and the channels unsubscribed from.</summary>
    public ContactReachability Reachability()
    {
        var addresses = new Dictionary<Channel, string>();
        if (Addresses.Email is { } email) addresses[Channel.Email] = email;
        if (Addresses.Phone is { } phone)
        {
            addresses[Channel.Sms] = phone;
            addresses[Channel.WhatsApp] = phone;
        }
        if (Addresses.PushTokens.Count > 0) addresses[Channel.Push] = Addresses.PushTokens[^1].Token;
        var unsubscribed = new HashSet<Channel>();
        foreach (var (name, subscription) in Subscriptions)
        {
            if (subscription.Status == SubscriptionStatus.Unsubscribed && Channels.TryParse(name, out var channel)) unsubscribed.Add(channel);
        }
        return new ContactReachability(addresses, unsubscribed);
    }
}

public sealed partial class ContactProfileProjection : SingleStreamProjection<ContactProfile, Guid>
{
    public static ContactProfile Create(IdentityLinked e) => Link(new ContactProfile { Id = e.ContactId }, e.Identity);

    public static ContactProfile Apply(IdentityLinked e, ContactProfile profile) => Link(profile, e.Identity);

    public static ContactProfile Apply(ContactTracked e, ContactProfile profile) => Seen(profile, e);

    public static ContactProfile Apply(PageViewed e, ContactProfile profile) => Seen(profile, e);

    public static ContactProfile Apply(ScreenViewed e, ContactProfile profile) => Seen(profile, e);

    public static ContactProfile Apply(ContactAliased e, ContactProfile profile) => Seen(profile, e);

    public static ContactProfile Apply(ContactIdentified e, ContactProfile profile) => WithTraits(Seen(profile, e), e.Traits, e.Timestamp);

    public static ContactProfile Apply(ContactGrouped e, ContactProfile profile)
    {
        var seen = Seen(profile, e);
        return seen.Groups.Contains(e.GroupId) ? seen : seen with { Groups = [.. seen.Groups, e.GroupId] };
    }

    public static ContactProfile Apply(ContactMerged e, ContactProfile profile) =>
        e.Identities.Aggregate(profile, Link) with { MergedContactIds = [.. profile.MergedContactIds, e.MergedContactId] };

    public static ContactProfile Apply(ContactMergedInto e, ContactProfile profile) =>
        profile with { MergedInto = e.IntoContactId, UserIds = [], AnonymousIds = [] };

    public static ContactProfile Apply(IEvent<ChannelSubscriptionChanged> e, ContactProfile profile)
    {
        var name = e.Data.Channel.Name();
        // Latest by event time: a late "subscribed" from before an "unsubscribed" does not undo it.
        if (profile.Subscriptions.TryGetValue(name, out var current) && current.ChangedAt > e.Data.Timestamp) return profile;
        return profile with
        {
            Subscriptions = new Dictionary<string, ChannelSubscription>(profile.Subscriptions)
            {
                [name] = new(e.Data.Status, e.Data.Timestamp, e.Data.MessageId, e.Id),
            },
        };
    }

    private static ContactProfile Link(ContactProfile profile, Identity identity) => identity.Kind switch
    {
        IdentityKind.User when !profile.UserIds.Contains(identity.Value) => profile with { UserIds = [.. profile.UserIds, identity.Value] },
        IdentityKind.Anonymous when !profile.AnonymousIds.Contains(identity.Value) => profile with { AnonymousIds = [.. profile.AnonymousIds, identity.Value] },
        _ => profile,
    };

    private static ContactProfile Seen(ContactProfile profile, ITrackingCall call)
    {
        var at = call.Timestamp;
        var updated = profile with
        {
            Events = profile.Events + 1,
            FirstSeenAt = profile.FirstSeenAt is { } first && first <= at ? first : at,
            LastSeenAt = profile.LastSeenAt is { } last && last >= at ? last : at,
            LastReceivedAt = call.ReceivedAt,
        };
        if (call.Context.ValueKind != JsonValueKind.Object || call.Context.GetPropertyCount() == 0) return updated;
        if (profile.LatestContext is { } latest && latest.At > at) return updated;

        var zone = Text(call.Context, "timezone");
        var context = new LatestContext(at,
            zone is not null && DateTimeZoneProviders.Tzdb.GetZoneOrNull(zone) is not null ? zone : profile.LatestContext?.TimeZone,
            Text(call.Context, "locale") ?? profile.LatestContext?.Locale,
            call.Context);
        updated = updated with { LatestContext = context };

        if (call.Context.TryGetProperty("device", out var device) && device.ValueKind == JsonValueKind.Object && Text(device, "token") is { } token)
        {
            var tokens = updated.Addresses.PushTokens.Where(t => t.Token != token).ToList();
            tokens.Add(new PushToken(token, Text(device, "type"), at));
            updated = updated with { Addresses = updated.Addresses with { PushTokens = tokens } };
        }
        return updated;
    }

    private static ContactProfile WithTraits(ContactProfile profile, JsonElement traits, Instant at)
    {
        if (traits.ValueKind != JsonValueKind.Object) return profile;
        var values = new Dictionary<string, JsonElement>(profile.Traits);
        var times = new Dictionary<string, Instant>(profile.TraitTimes);
        foreach (var trait in traits.EnumerateObject())
        {
            // Latest value by event time wins; an identify that arrives late does not overwrite newer values.
            if (times.TryGetValue(trait.Name, out var setAt) && setAt > at) continue;
            values[trait.Name] = trait.Value;
            times[trait.Name] = at;
        }
        var addresses = profile.Addresses with
        {
            Email = values.TryGetValue("email", out var email) && email.ValueKind == JsonValueKind.String && email.GetString()!.Contains('@')
                ? email.GetString()!.Trim() : profile.Addresses.Email,
            Phone = values.TryGetValue("phone", out var phone) && phone.ValueKind == JsonValueKind.String && phone.GetString()!.Length > 0
                ? phone.GetString()!.Trim() : profile.Addresses.Phone,
        };
        return profile with { Traits = values, TraitTimes = times, Addresses = addresses };
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;
}
