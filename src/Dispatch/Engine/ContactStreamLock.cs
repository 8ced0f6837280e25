using Marten;

namespace EventSourcedJourneys.Dispatch.Engine;

/// <summary>
/// One writer per contact stream at a time, shared with ingestion: a transaction-scoped PostgreSQL advisory lock in the
/// lock space ingestion takes for the contacts of a request (src/Api/Ingestion/ContactIngestion.cs, same space and key).
/// Without it an engine append and an ingestion append to one stream race for the same version, and the loser is
/// retried — for delivery, after the provider already took the message (a second request with the same
/// Idempotency-Key).
/// </summary>
public static class ContactStreamLock
{
    private const int LockSpace = 0x45534A43; // "ESJC"

    /// <summary>Takes the contact's lock in the session's transaction (begun here if it is not yet), until it commits.</summary>
    public static async Task TakeAsync(IDocumentSession session, Guid contactId, CancellationToken cancellation)
    {
        await session.BeginTransactionAsync(cancellation);
        await session.AdvancedSql.QueryAsync<int>("select count(*)::int from (select pg_advisory_xact_lock(?, ?)) as locked",
            cancellation, LockSpace, BitConverter.ToInt32(contactId.ToByteArray(), 0));
    }
}
