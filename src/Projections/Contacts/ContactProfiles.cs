using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using JasperFx.Events.Projections;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Projections.Contacts;

/// <summary>
/// Reading a whole person: a contact's profile combined with the profiles of the contacts merged into it
/// (their events stay on their own streams; <see cref="ContactProfile.MergedContactIds"/> lists them).
/// </summary>
public static class ContactProfiles
{
    private const int MaxMerged = 100;

    public static StoreOptions AddContactProfiles(this StoreOptions options)
    {
        options.Projections.Add<ContactProfileProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ContactIdentity>();
        options.Schema.For<IngestedMessage>();
        return options;
    }

    /// <summary>The contact an identity belongs to, if the workspace has seen it.</summary>
    public static async Task<Guid?> FindAsync(IQuerySession session, Identity identity, CancellationToken cancellation = default) =>
        (await session.LoadAsync<ContactIdentity>(identity.Key, cancellation))?.ContactId;

    /// <summary>The contact as one person (following a merge to the contact it went into), or null if unknown.</summary>
    public static async Task<ContactProfile?> LoadAsync(IQuerySession session, Guid contactId, CancellationToken cancellation = default)
    {
        var profile = await session.LoadAsync<ContactProfile>(contactId, cancellation);
        for (var hops = 0; profile?.MergedInto is { } into && hops < 10; hops++)
            profile = await session.LoadAsync<ContactProfile>(into, cancellation);
        if (profile is null || profile.MergedContactIds.Count == 0) return profile;

        var absorbed = new List<ContactProfile>();
        var pending = new Queue<Guid>(profile.MergedContactIds);
        var seen = new HashSet<Guid> { profile.Id };
        while (pending.Count > 0 && seen.Count < MaxMerged)
        {
            var batch = pending.Where(seen.Add).ToArray();
            pending.Clear();
            foreach (var merged in await session.LoadManyAsync<ContactProfile>(cancellation, batch))
            {
                absorbed.Add(merged);
                foreach (var nested in merged.MergedContactIds) pending.Enqueue(nested);
            }
        }
        return Combine(profile, absorbed);
    }

    /// <summary>Every stream that holds the contact's history: its own and those merged into it.</summary>
    public static IReadOnlyList<Guid> StreamIds(ContactProfile profile) => [profile.Id, .. profile.MergedContactIds];

    public static ContactProfile Combine(ContactProfile survivor, IReadOnlyList<ContactProfile> absorbed)
    {
        var traits = new Dictionary<string, JsonElement>(survivor.Traits);
        var times = new Dictionary<string, Instant>(survivor.TraitTimes);
        var subscriptions = new Dictionary<string, ChannelSubscription>(survivor.Subscriptions);
        var combined = survivor;
        foreach (var other in absorbed)
        {
            foreach (var (name, value) in other.Traits)
            {
                var at = other.TraitTimes.GetValueOrDefault(name);
                if (times.TryGetValue(name, out var mine) && mine >= at) continue;
                traits[name] = value;
                times[name] = at;
            }
            foreach (var (channel, subscription) in other.Subscriptions)
            {
                if (!subscriptions.TryGetValue(channel, out var mine) || mine.ChangedAt < subscription.ChangedAt) subscriptions[channel] = subscription;
            }
            combined = combined with
            {
                UserIds = [.. combined.UserIds.Union(other.UserIds)],
                AnonymousIds = [.. combined.AnonymousIds.Union(other.AnonymousIds)],
                FirstSeenAt = Min(combined.FirstSeenAt, other.FirstSeenAt),
                LastSeenAt = Max(combined.LastSeenAt, other.LastSeenAt),
                LastReceivedAt = Max(combined.LastReceivedAt, other.LastReceivedAt),
                LatestContext = other.LatestContext is { } context && (combined.LatestContext is null || combined.LatestContext.At < context.At)
                    ? context with { TimeZone = context.TimeZone ?? combined.LatestContext?.TimeZone, Locale = context.Locale ?? combined.LatestContext?.Locale }
                    : combined.LatestContext,
                Addresses = new ChannelAddresses(
                    combined.Addresses.Email ?? other.Addresses.Email,
                    combined.Addresses.Phone ?? other.Addresses.Phone,
                    [.. combined.Addresses.PushTokens.Concat(other.Addresses.PushTokens).DistinctBy(t => t.Token).OrderBy(t => t.LastSeenAt)]),
                Groups = [.. combined.Groups.Union(other.Groups)],
                Events = combined.Events + other.Events,
                MergedContactIds = [.. combined.MergedContactIds.Union(other.MergedContactIds)],
            };
        }
        return combined with { Traits = traits, TraitTimes = times, Subscriptions = subscriptions };
    }

    private static Instant? Min(Instant? a, Instant? b) => a is null ? b : b is null ? a : Instant.Min(a.Value, b.Value);

    private static Instant? Max(Instant? a, Instant? b) => a is null ? b : b is null ? a : Instant.Max(a.Value, b.Value);
}
