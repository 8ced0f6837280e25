using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Segments;
using Marten;
using NodaTime;
using Wolverine;

namespace EventSourcedJourneys.Dispatch.Segments;

/// <summary>
/// Keeps one contact's segment memberships current as its events arrive: re-evaluates the published segments the
/// event can change, appends <see cref="SegmentEntered"/>/<see cref="SegmentExited"/> to the contact's stream, updates
/// the membership rows in the same transaction, and plans the contact's next time review (one durable message at the
/// earliest instant a time window can change an answer). A segment whose definition changed since it was built is left
/// alone until its rebuild replaces it (reads keep serving the old membership).
/// </summary>
public sealed class SegmentMembership(LiveRules live, IContactFacts contacts, IClock clock)
{
    /// <param name="eventName">The name rules know the new event by; null for a profile change, a merge or a time
    /// review, which can change any segment.</param>
    /// <param name="planConsumed">A planned review is being handled: plan the next one whatever the stored plan says.</param>
    public async Task<OutgoingMessages> ReviewAsync(IDocumentSession session, Guid contactId, string? eventName, CancellationToken cancellation,
        bool planConsumed = false)
    {
        var outgoing = new OutgoingMessages();
        var rules = await live.ForWorkspaceAsync(session.TenantId, cancellation);
        if (rules.Document.Segments.Count == 0) return outgoing;

        var catalog = await session.LoadAsync<SegmentCatalog>(SegmentCatalog.DocumentId, cancellation);
        if (catalog is null) return outgoing;
        var maintained = LiveSegments.Of(rules).Segments
            .Where(s => catalog.Current.TryGetValue(s.Name, out var built) && built.ContentHash == s.Definition.ContentHash)
            .ToList();
        if (maintained.Count == 0) return outgoing;

        var profile = await session.LoadAsync<ContactProfile>(contactId, cancellation);
        var merged = profile?.MergedInto is not null;
        var facts = await contacts.LoadAsync(session, contactId, cancellation);
        var generations = await SegmentMembers.GenerationsOfAsync(session, contactId, cancellation);
        var memberOf = maintained.Where(s => generations.Contains(catalog.Current[s.Name].Generation)).Select(s => s.Name).ToHashSet();
        var now = clock.GetCurrentInstant();

        var affected = maintained.Where(s => SegmentDecisions.CanChangeOn(s, eventName));
        var changes = SegmentDecisions.Review(contactId, affected, memberOf, facts.Snapshot, merged, now);
        if (changes.Count > 0) session.Events.Append(contactId, changes.Cast<object>().ToArray());
        foreach (var change in changes)
        {
            var generation = catalog.Current[change.Segment].Generation;
            if (change is SegmentEntered) SegmentMembers.Enter(session, generation, contactId, change.At);
            else SegmentMembers.Exit(session, generation, contactId);
            SegmentMembers.CountChange(session, catalog.Lineage, change.Segment, change.At, change is SegmentEntered ? 1 : -1);
        }

        var next = SegmentDecisions.NextReview(maintained, facts.Snapshot, merged, now);
        var plan = planConsumed ? null : await session.LoadAsync<SegmentReviewPlan>(contactId, cancellation);
        if (!planConsumed && next == plan?.DueAt) return outgoing;
        if (next is { } due)
        {
            session.Store(new SegmentReviewPlan(contactId, due));
            outgoing.Add(ReviewSegments.At(contactId, due, now));
        }
        else
        {
            session.Delete<SegmentReviewPlan>(contactId);
        }
        return outgoing;
    }
}

/// <summary>Look at a contact's segments again: at <paramref name="DueAt"/> (a planned time review; superseded when
/// the contact's plan moved), or now when null (after a rebuild, for contacts whose events came in meanwhile).</summary>
public sealed record ReviewSegments(Guid ContactId, Instant? DueAt) : Domain.Messages.IContactMessage
{
    /// <summary>A durable message delayed from the injected clock's now, like message waits (a FakeClock drives it too).</summary>
    public static DeliveryMessage<ReviewSegments> At(Guid contactId, Instant due, Instant now)
    {
        var wait = due - now;
        return new ReviewSegments(contactId, due).DelayedFor(wait > Duration.Zero ? wait.ToTimeSpan() : TimeSpan.Zero);
    }
}

public static class ReviewSegmentsHandler
{
    /// <summary>How long a review that fired before its instant (by the injected clock) waits before it looks again.</summary>
    private static readonly TimeSpan EarlyRetry = TimeSpan.FromSeconds(1);

    public static async Task<OutgoingMessages> Handle(ReviewSegments review, IDocumentSession session, SegmentMembership segments, IClock clock,
        CancellationToken cancellation)
    {
        if (review.DueAt is { } due)
        {
            var plan = await session.LoadAsync<SegmentReviewPlan>(review.ContactId, cancellation);
            if (plan is null || plan.DueAt != due) return new OutgoingMessages(); // a later evaluation planned another review
            var early = due - clock.GetCurrentInstant();
            if (early > Duration.Zero)
                return new OutgoingMessages { review.DelayedFor(early.ToTimeSpan() > EarlyRetry ? early.ToTimeSpan() : EarlyRetry) };
            // The review plans the next one (the same instant again if this one fired early).
            return await segments.ReviewAsync(session, review.ContactId, eventName: null, cancellation, planConsumed: true);
        }
        return await segments.ReviewAsync(session, review.ContactId, eventName: null, cancellation);
    }
}
