using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>An event of the contact with its identity in the store, as the rules read it.</summary>
public sealed record ContactEvent(EventRef Ref, RecordedEvent Event);

/// <summary>A message the contact already received (for caps and re-eligibility).</summary>
public sealed record ReceivedMessage(Guid MessageId, string? Rule, bool Transactional, Instant SentAt);

/// <summary>A previous entry of the contact into a trigger.</summary>
public sealed record TriggerEntry(string Rule, Instant EventTime);

/// <summary>What the contact has already been through: the inputs of caps, re-eligibility and de-duplication.</summary>
public sealed record DeliveryHistory(IReadOnlyList<ReceivedMessage> Received, IReadOnlyList<TriggerEntry> Entries)
{
    public static readonly DeliveryHistory Empty = new([], []);
}

/// <summary>Where the contact can be reached, and which channels they unsubscribed from.</summary>
public sealed record ContactReachability(IReadOnlyDictionary<Channel, string> Addresses, IReadOnlySet<Channel> Unsubscribed)
{
    public static readonly ContactReachability Nowhere = new(new Dictionary<Channel, string>(), new HashSet<Channel>());
}

/// <summary>A message waiting for its due time, with what the trigger recorded when it matched.</summary>
public sealed record PendingMessage(MessageScheduled Scheduled, Instant EntryAt);
