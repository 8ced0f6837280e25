using EventSourcedJourneys.Api.Workspaces;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Inbox;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Inbox;

public sealed record InboxView(string UserId, int Unread, IReadOnlyList<InboxItem> Items);

/// <summary>
/// The in-app channel as the app reads it: the messages delivered to a user's inbox, newest first, and marking one
/// read. App-facing, so a write key may call it (see docs/adr/0001 on what roles will add).
/// </summary>
public static class InboxEndpoints
{
    [WolverineGet("/v1/inbox/{userId}", Name = "GetInbox")]
    [Tags("Inbox"), Authorize(Policy = ApiKeyPolicies.Ingestion)]
    public static async Task<InboxView> Get(string userId, IQuerySession session, CancellationToken cancellation)
    {
        var items = await ItemsAsync(session, userId, cancellation);
        return new InboxView(userId, items.Count(i => i.Item.ReadAt is null),
            items.Select(i => i.Item).OrderByDescending(i => i.DeliveredAt).ToList());
    }

    [WolverinePost("/v1/inbox/{userId}/messages/{messageId}/read", Name = "MarkInboxMessageRead")]
    [Tags("Inbox"), Authorize(Policy = ApiKeyPolicies.Ingestion)]
    public static async Task<IResult> MarkRead(string userId, Guid messageId, IDocumentSession session, IClock clock,
        CancellationToken cancellation)
    {
        var found = (await ItemsAsync(session, userId, cancellation)).FirstOrDefault(i => i.Item.MessageId == messageId);
        if (found.Item is null)
            return Results.Problem(new ProblemDetails
            {
                Status = 404, Title = "No such message in this inbox",
                Detail = $"User '{userId}' has no in-app message {messageId}.",
            });
        if (found.Item.ReadAt is { } readAt) return Results.Ok(found.Item);

        var now = clock.GetCurrentInstant();
        session.Events.Append(found.ContactId, new InboxMessageRead(found.ContactId, messageId, now));
        await session.SaveChangesAsync(cancellation);
        return Results.Ok(found.Item with { ReadAt = now });
    }

    /// <summary>The inbox items of every stream that holds the person's history (merged contacts included).</summary>
    private static async Task<List<(Guid ContactId, InboxItem Item)>> ItemsAsync(IQuerySession session, string userId, CancellationToken cancellation)
    {
        if (await ContactProfiles.FindAsync(session, Identity.User(userId), cancellation) is not { } contactId) return [];
        var profile = await ContactProfiles.LoadAsync(session, contactId, cancellation);
        var streams = profile is null ? [contactId] : ContactProfiles.StreamIds(profile);
        var inboxes = await session.LoadManyAsync<Projections.Inbox.Inbox>(cancellation, streams);
        return inboxes.SelectMany(inbox => inbox.Items.Select(item => (inbox.Id, item))).ToList();
    }
}
