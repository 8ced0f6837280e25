using EventSourcedJourneys.Domain.Messages;
using Marten.Events.Aggregation;
using NodaTime;

namespace EventSourcedJourneys.Projections.Inbox;

public sealed record InboxItem(Guid MessageId, string Template, string? Title, string Body,
    IReadOnlyDictionary<string, string>? Data, Instant DeliveredAt, Instant? ReadAt);

/// <summary>A contact's in-app inbox, newest last, as the app reads it.</summary>
public sealed record Inbox(Guid Id, IReadOnlyList<InboxItem> Items)
{
    public int Unread => Items.Count(i => i.ReadAt is null);
}

public sealed partial class InboxProjection : SingleStreamProjection<Inbox, Guid>
{
    public static Inbox Create(InboxMessageDelivered e) => new(e.ContactId, [Item(e)]);

    public static Inbox Apply(InboxMessageDelivered e, Inbox inbox) =>
        inbox.Items.Any(i => i.MessageId == e.MessageId) ? inbox : inbox with { Items = [.. inbox.Items, Item(e)] };

    public static Inbox Apply(InboxMessageRead e, Inbox inbox) => inbox with
    {
        Items = inbox.Items.Select(i => i.MessageId == e.MessageId && i.ReadAt is null ? i with { ReadAt = e.ReadAt } : i).ToList(),
    };

    private static InboxItem Item(InboxMessageDelivered e) => new(e.MessageId, e.Template, e.Title, e.Body, e.Data, e.DeliveredAt, null);
}
