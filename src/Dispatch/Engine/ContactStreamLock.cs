using Marten;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// One writer per contact stream at a time, for ingestion (all the contacts of a request, src/Api/Ingestion) and the
/// engine alike: a transaction-scoped PostgreSQL advisory lock per contact, in one lock space. Without it an engine append and an ingestion append to one stream race for the same version, and the loser is
/// retried — for delivery, after the provider already took the message (a second request with the same
/// Idempotency-Key).
/// </summary>
public static class ContactStreamLock
{
    private const int LockSpace = 0x45534A43; // "ESJC"

    /// <summary>Takes the contact's lock in the session's transaction (begun here if it is not yet), until it commits.</summary>
    public static Task TakeAsync(IDocumentSession session, Guid contactId, CancellationToken cancellation) =>
        TakeAllAsync(session, [contactId], cancellation);

    /// <summary>Takes the locks of all <paramref name="contacts"/> (ingestion: every contact of a request), in key order so
    /// that two writers never wait for each other crosswise.</summary>
    public static async Task TakeAllAsync(IDocumentSession session, IEnumerable<Guid> contacts, CancellationToken cancellation)
    {
        await session.BeginTransactionAsync(cancellation);
        var keys = contacts.Select(c => BitConverter.ToInt32(c.ToByteArray(), 0)).Distinct().Order().ToArray();
        await session.AdvancedSql.QueryAsync<int>(
            "select count(*)::int from (select pg_advisory_xact_lock(?, k) from unnest(?::int[]) as k order by k) as locked",
            cancellation, LockSpace, keys);
    }
}
