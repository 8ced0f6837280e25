using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Messages;
using Marten;
using JasperFx;
using Marten.Exceptions;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Api.Ingestion;

/// <summary>
/// Records validated calls on their contacts' streams, all of a request in one transaction (ADR 0004, 0005):
/// claim the messageIds (already stored ones are skipped), resolve identities, lock the contacts touched,
/// append, and let the inline profile projection and identity index commit with the events.
/// </summary>
public static class ContactIngestion
{
    private const int Attempts = 20;

    /// <summary>Stores the calls exactly once; returns how many were new. Races with a concurrent request are retried.</summary>
    public static async Task<int> IngestAsync(IDocumentStore store, string workspace, IReadOnlyList<TrackingCall> calls, Instant receivedAt,
        CancellationToken cancellation)
    {
        // A messageId repeated inside one request counts once: the first occurrence wins.
        var distinct = calls.DistinctBy(c => c.MessageId, StringComparer.Ordinal).ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryIngestAsync(store, workspace, distinct, receivedAt, cancellation);
            }
            catch (Exception e) when (attempt < Attempts && IsRace(e))
            {
                // Another request created the same identity first; start over with what it committed. Each attempt
                // finds at least the identities that beat it, so attempts only repeat while new people keep racing.
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellation);
            }
        }
    }

    private static async Task<int> TryIngestAsync(IDocumentStore store, string workspace, List<TrackingCall> calls, Instant receivedAt,
        CancellationToken cancellation)
    {
        await using var session = store.LightweightSession(workspace);
        await session.BeginTransactionAsync(cancellation);

        var fresh = await ClaimAsync(store, session, workspace, calls, cancellation);
        if (fresh.Count == 0) return 0;

        var index = (await session.LoadManyAsync<ContactIdentity>(cancellation, IdentityKeys(fresh).ToArray()))
            .ToDictionary(i => i.Id, i => i.ContactId, StringComparer.Ordinal);
        var identities = await IdentitiesOfLinkableContactsAsync(session, fresh, index, cancellation);
        var resolver = new IdentityResolver(workspace, index, identities);
        var receipts = fresh.Where(c => c.Type == CallType.Track)
            .Select(c => (Call: c, Receipt: Receipts.Read(c.Event!, c.Properties)))
            .Where(r => r.Receipt is not null)
            .ToDictionary(r => r.Call, r => r.Receipt!);
        var targets = await ReceiptTargetsAsync(session, receipts.Values, cancellation);

        var streams = new Dictionary<Guid, List<object>>();
        List<object> StreamOf(Guid contact) => streams.TryGetValue(contact, out var events) ? events : streams[contact] = [];
        foreach (var call in fresh)
        {
            var resolution = call.Type == CallType.Alias
                ? resolver.ResolveAlias(call.PreviousId!, call.UserId!)
                : resolver.Resolve(call.UserId, call.AnonymousId);
            var contact = resolution.ContactId;
            var events = StreamOf(contact);
            foreach (var identity in resolution.Links) events.Add(new IdentityLinked(contact, identity, call.MessageId, call.Timestamp));
            if (resolution.Merge is { } merge)
            {
                StreamOf(merge.Absorbed).Add(new ContactMergedInto(merge.Absorbed, contact, call.MessageId, call.Timestamp));
                events.Add(new ContactMerged(contact, merge.Absorbed, merge.Identities, call.MessageId, call.Timestamp));
            }
            events.Add(ToEvent(call, contact, receivedAt));
            // A receipt is recorded on the stream of the message it names (whoever the call was about); one naming a
            // message we do not know stays a plain tracked event.
            if (receipts.TryGetValue(call, out var receipt) && targets.Find(receipt) is { } target)
            {
                StreamOf(target.ContactId).AddRange(Receipts.EventsFor(receipt, target, call.MessageId, call.Event!, call.Timestamp));
                if (receipt.Kind == ReceiptKind.Unsubscribed) continue; // its consent change is on the message's channel
            }
            events.AddRange(SubscriptionChanges(call, contact));
        }

        // One writer per contact at a time (shared with the engine): the profile is read and written back, which two
        // concurrent transactions on one contact would otherwise both do from the same old state.
        await ContactStreamLock.TakeAllAsync(session, streams.Keys, cancellation);
        foreach (var (key, (identity, contact)) in resolver.Created) session.Insert(new ContactIdentity(key, identity.Kind, identity.Value, contact));
        foreach (var (key, (identity, contact)) in resolver.Repointed) session.Update(new ContactIdentity(key, identity.Kind, identity.Value, contact));
        // Streams of profile events only (nearly all) are appended in bulk (ADR 0016); a stream with a receipt or any
        // other event goes through Marten, whose inline projections read it.
        var bulk = streams.Where(s => ContactStreamAppend.Qualifies(s.Value)).ToDictionary();
        await ContactStreamAppend.QueueAsync(session, bulk, cancellation);
        foreach (var (contact, events) in streams)
        {
            if (!bulk.ContainsKey(contact)) session.Events.Append(contact, events);
        }
        await session.SaveChangesAsync(cancellation);
        return fresh.Count;
    }

    private sealed record ReceiptTargets(Dictionary<Guid, ReceiptTarget> ById, Dictionary<string, ReceiptTarget> ByProviderId)
    {
        public ReceiptTarget? Find(ReceiptReference receipt) =>
            receipt.MessageId is { } id && ById.TryGetValue(id, out var byId) ? byId
            : receipt.ProviderMessageId is { } provider && ByProviderId.TryGetValue(provider, out var byProvider) ? byProvider
            : null;
    }

    /// <summary>The messages the receipts of a request name, by our id and by the provider's (two queries at most).</summary>
    private static async Task<ReceiptTargets> ReceiptTargetsAsync(IDocumentSession session, IEnumerable<ReceiptReference> receipts,
        CancellationToken cancellation)
    {
        var targets = new ReceiptTargets([], new Dictionary<string, ReceiptTarget>(StringComparer.Ordinal));
        var list = receipts.ToList();
        if (list.Count == 0) return targets;
        var ids = list.Where(r => r.MessageId is not null).Select(r => r.MessageId!.Value).Distinct().ToArray();
        if (ids.Length > 0)
        {
            foreach (var message in await session.LoadManyAsync<ScheduledMessage>(cancellation, ids))
                targets.ById[message.Id] = new ReceiptTarget(message.Id, message.ContactId, message.Channel);
        }
        var providerIds = list.Where(r => r.ProviderMessageId is not null && (r.MessageId is null || !targets.ById.ContainsKey(r.MessageId.Value)))
            .Select(r => r.ProviderMessageId!).Distinct().ToArray();
        if (providerIds.Length > 0)
        {
            var sent = await session.Query<ScheduledMessage>().Where(m => m.ProviderMessageId.IsOneOf(providerIds)).ToListAsync(cancellation);
            foreach (var message in sent)
                targets.ByProviderId[message.ProviderMessageId!] = new ReceiptTarget(message.Id, message.ContactId, message.Channel);
        }
        return targets;
    }

    /// <summary>
    /// Inserts the messageIds not yet stored and returns the calls they belong to. A concurrent request holding the
    /// same ids waits here until that request commits (then they are skipped) or rolls back (then they are ours).
    /// </summary>
    private static async Task<List<TrackingCall>> ClaimAsync(IDocumentStore store, IDocumentSession session, string workspace,
        List<TrackingCall> calls, CancellationToken cancellation)
    {
        var table = store.Options.FindOrResolveDocumentType(typeof(IngestedMessage)).TableName.QualifiedName;
        var ids = calls.Select(c => c.MessageId).Order(StringComparer.Ordinal).ToArray();
        var claimed = await session.AdvancedSql.QueryAsync<string>(
            $"insert into {table} (tenant_id, id, data, mt_dotnet_type) " +
            $"select ?, m, jsonb_build_object('id', m), '{typeof(IngestedMessage).FullName}' from unnest(?::text[]) as m order by m " +
            "on conflict do nothing returning id",
            cancellation, workspace, ids);
        var mine = claimed.ToHashSet(StringComparer.Ordinal);
        return calls.Where(c => mine.Contains(c.MessageId)).ToList();
    }

    private static IEnumerable<string> IdentityKeys(IEnumerable<TrackingCall> calls)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var call in calls)
        {
            if (call.UserId is { } user) keys.Add(Identity.User(user).Key);
            if (call.AnonymousId is { } anonymous) keys.Add(Identity.Anonymous(anonymous).Key);
            if (call.PreviousId is { } previous)
            {
                keys.Add(Identity.User(previous).Key);
                keys.Add(Identity.Anonymous(previous).Key);
            }
        }
        return keys;
    }

    /// <summary>The identities of stored contacts that a call could link or merge (calls with two ids); none on the common path.</summary>
    private static async Task<Dictionary<Guid, IReadOnlyList<Identity>>> IdentitiesOfLinkableContactsAsync(IDocumentSession session,
        List<TrackingCall> calls, Dictionary<string, Guid> index, CancellationToken cancellation)
    {
        var contacts = new HashSet<Guid>();
        foreach (var call in calls)
        {
            var keys = call.Type == CallType.Alias
                ? [Identity.User(call.UserId!).Key, Identity.User(call.PreviousId!).Key, Identity.Anonymous(call.PreviousId!).Key]
                : call is { UserId: { } user, AnonymousId: { } anonymous } ? new[] { Identity.User(user).Key, Identity.Anonymous(anonymous).Key } : [];
            foreach (var key in keys)
            {
                if (index.TryGetValue(key, out var contact)) contacts.Add(contact);
            }
        }
        if (contacts.Count == 0) return [];
        var profiles = await session.LoadManyAsync<ContactProfile>(cancellation, contacts.ToArray());
        return profiles.ToDictionary(p => p.Id, p => (IReadOnlyList<Identity>)p.Identities.ToList());
    }

    private static object ToEvent(TrackingCall call, Guid contact, Instant receivedAt) => call.Type switch
    {
        CallType.Track => new ContactTracked(contact, call.MessageId, call.Event!, call.Properties, call.Context, call.Timestamp, receivedAt, call.UserId, call.AnonymousId),
        CallType.Identify => new ContactIdentified(contact, call.MessageId, call.Traits, call.Context, call.Timestamp, receivedAt, call.UserId, call.AnonymousId),
        CallType.Page => new PageViewed(contact, call.MessageId, call.Name, call.Category, call.Properties, call.Context, call.Timestamp, receivedAt, call.UserId, call.AnonymousId),
        CallType.Screen => new ScreenViewed(contact, call.MessageId, call.Name, call.Category, call.Properties, call.Context, call.Timestamp, receivedAt, call.UserId, call.AnonymousId),
        CallType.Group => new ContactGrouped(contact, call.MessageId, call.GroupId!, call.Traits, call.Context, call.Timestamp, receivedAt, call.UserId, call.AnonymousId),
        CallType.Alias => new ContactAliased(contact, call.MessageId, call.PreviousId!, call.UserId!, call.Context, call.Timestamp, receivedAt),
        _ => throw new ArgumentOutOfRangeException(nameof(call), call.Type, "Unknown call type."),
    };

    /// <summary>
    /// Consent changes: <c>track "Unsubscribed"</c> / <c>"Subscribed"</c> (channel in <c>properties.channel</c>, email
    /// when absent), and identify's <c>traits.subscriptions</c> (<c>{"sms": "unsubscribed"}</c>).
    /// </summary>
    public static IEnumerable<ChannelSubscriptionChanged> SubscriptionChanges(TrackingCall call, Guid contact)
    {
        if (call.Type == CallType.Track && SubscriptionEvents.TryGetValue(call.Event!, out var status))
        {
            var channelName = call.Properties.TryGetProperty("channel", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.String ? c.GetString() : "email";
            if (Channels.TryParse(channelName, out var channel))
                yield return new ChannelSubscriptionChanged(contact, channel, status, call.MessageId, $"track \"{call.Event}\"", call.Timestamp);
        }
        if (call.Type == CallType.Identify && call.Traits.TryGetProperty("subscriptions", out var subscriptions)
            && subscriptions.ValueKind == System.Text.Json.JsonValueKind.Object)
        {
            foreach (var entry in subscriptions.EnumerateObject())
            {
                if (Channels.TryParse(entry.Name, out var channel) && entry.Value.ValueKind == System.Text.Json.JsonValueKind.String
                    && StatusNames.TryGetValue(entry.Value.GetString()!, out var changed))
                    yield return new ChannelSubscriptionChanged(contact, channel, changed, call.MessageId, $"identify traits.subscriptions.{entry.Name}", call.Timestamp);
            }
        }
    }

    private static readonly Dictionary<string, SubscriptionStatus> SubscriptionEvents = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Subscribed"] = SubscriptionStatus.Subscribed,
        ["Unsubscribed"] = SubscriptionStatus.Unsubscribed,
    };

    private static readonly Dictionary<string, SubscriptionStatus> StatusNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["subscribed"] = SubscriptionStatus.Subscribed,
        ["unsubscribed"] = SubscriptionStatus.Unsubscribed,
    };

    private static bool IsRace(Exception e)
    {
        if (e is AggregateException aggregate) return aggregate.InnerExceptions.All(IsRace);
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is DocumentAlreadyExistsException or ConcurrencyException) return true;
            if (inner is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure })
                return true;
        }
        return false;
    }
}
