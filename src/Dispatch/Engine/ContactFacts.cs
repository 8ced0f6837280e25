using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Dsl.Runtime;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>Everything the rules read about one contact at one moment.</summary>
/// <param name="Events">The contact's events with their store identity, in event-time order.</param>
/// <param name="TimeZone">The zone of the contact's profile; null when unknown (the workspace's applies).</param>
public sealed record ContactFacts(ContactSnapshot Snapshot, IReadOnlyList<ContactEvent> Events, ContactReachability Reach, DateTimeZone? TimeZone)
{
    public static readonly ContactFacts Unknown = new(ContactSnapshot.Empty, [], ContactReachability.Nowhere, null);
}

/// <summary>Reads a contact's facts from the store (the contact profile and the contact's tracked events).</summary>
public interface IContactFacts
{
    Task<ContactFacts> LoadAsync(IQuerySession session, Guid contactId, CancellationToken cancellation);
}

/// <summary>The workspace's own clock (campaign dates, workspace send windows, contacts without a zone), and the
/// endpoint its <c>webhook</c> messages are posted to.</summary>
public interface IWorkspaceSettings
{
    Task<DateTimeZone> ZoneOfAsync(string workspace, CancellationToken cancellation);

    Task<string?> WebhookUrlOfAsync(string workspace, CancellationToken cancellation);
}
