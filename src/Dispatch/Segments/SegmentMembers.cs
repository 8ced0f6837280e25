using EventSourcedJourneys.Projections.Segments;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Segments;

/// <summary>One member of a segment, since when (for a rebuilt generation: since the rebuild).</summary>
public sealed record SegmentMember(Guid ContactId, Instant Since);

/// <summary>The segment's size at the end of a day (UTC).</summary>
public sealed record SegmentSizeOnDay(LocalDate Day, long Size);

/// <summary>Reads and writes of the membership tables (<see cref="SegmentTables"/>) through a Marten session, so
/// membership changes commit with the events that record them.</summary>
public static class SegmentMembers
{
    private static string Members(IQuerySession session) => $"{session.DocumentStore.Options.DatabaseSchemaName}.{SegmentTables.Members}";

    private static string Sizes(IQuerySession session) => $"{session.DocumentStore.Options.DatabaseSchemaName}.{SegmentTables.Sizes}";

    /// <summary>The generations (of any segment) the contact is a member of.</summary>
    public static async Task<IReadOnlySet<Guid>> GenerationsOfAsync(IQuerySession session, Guid contactId, CancellationToken cancellation) =>
        (await session.AdvancedSql.QueryAsync<Guid>(
            $"select generation from {Members(session)} where tenant_id = ? and contact_id = ?", cancellation, session.TenantId, contactId))
        .ToHashSet();

    public static async Task<IReadOnlyList<(Guid Generation, Instant Since)>> MembershipsOfAsync(IQuerySession session, Guid contactId,
        CancellationToken cancellation) =>
        (await session.AdvancedSql.QueryAsync<string>(
            $"select generation::text || '|' || {SinceText} from {Members(session)} where tenant_id = ? and contact_id = ?", cancellation,
            session.TenantId, contactId))
        .Select(Row).Select(r => (Guid.Parse(r.Key), r.Since)).ToList();

    // Marten's multi-column queries read rows as JSON; one text column keeps the types exact.
    private const string SinceText = "to_char(since at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

    private static (string Key, Instant Since) Row(string row)
    {
        var bar = row.IndexOf('|');
        return (row[..bar], NodaTime.Text.InstantPattern.ExtendedIso.Parse(row[(bar + 1)..]).Value);
    }

    public static async Task<long> CountAsync(IQuerySession session, Guid generation, CancellationToken cancellation) =>
        (await session.AdvancedSql.QueryAsync<long>(
            $"select count(*) from {Members(session)} where generation = ?", cancellation, generation)).Single();

    /// <summary>A page of members in contact id order (stable while the membership does not change).</summary>
    public static async Task<IReadOnlyList<SegmentMember>> PageAsync(IQuerySession session, Guid generation, int offset, int limit,
        CancellationToken cancellation) =>
        (await session.AdvancedSql.QueryAsync<string>(
            $"select contact_id::text || '|' || {SinceText} from {Members(session)} where generation = ? order by contact_id offset ? limit ?",
            cancellation, generation, offset, limit))
        .Select(Row).Select(r => new SegmentMember(Guid.Parse(r.Key), r.Since)).ToList();

    /// <summary>The size at the end of every day it changed, oldest first.</summary>
    public static async Task<IReadOnlyList<SegmentSizeOnDay>> HistoryAsync(IQuerySession session, Guid lineage, string segment,
        CancellationToken cancellation) =>
        (await session.AdvancedSql.QueryAsync<string>(
            $"select to_char(day, 'YYYY-MM-DD') || '|' || (sum(delta) over (order by day))::text from {Sizes(session)} " +
            "where lineage = ? and segment = ? order by day",
            cancellation, lineage, segment))
        .Select(r => r.Split('|'))
        .Select(r => new SegmentSizeOnDay(NodaTime.Text.LocalDatePattern.Iso.Parse(r[0]).Value, long.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)))
        .ToList();

    /// <summary>The size the history adds up to now.</summary>
    public static async Task<long> RecordedSizeAsync(IQuerySession session, Guid lineage, string segment, CancellationToken cancellation) =>
        (await session.AdvancedSql.QueryAsync<long>(
            $"select coalesce(sum(delta), 0)::bigint from {Sizes(session)} where lineage = ? and segment = ?", cancellation,
            lineage, segment)).Single();

    public static void Enter(IDocumentSession session, Guid generation, Guid contactId, Instant at) =>
        session.QueueSqlCommand(
            $"insert into {Members(session)} (generation, contact_id, tenant_id, since) values (?, ?, ?, ?) on conflict do nothing",
            generation, contactId, session.TenantId, at.ToDateTimeOffset());

    public static void Exit(IDocumentSession session, Guid generation, Guid contactId) =>
        session.QueueSqlCommand($"delete from {Members(session)} where generation = ? and contact_id = ?", generation, contactId);

    /// <summary>Adds <paramref name="delta"/> to the segment's size on the (UTC) day of <paramref name="at"/>.</summary>
    public static void CountChange(IDocumentSession session, Guid lineage, string segment, Instant at, long delta) =>
        session.QueueSqlCommand(
            $"insert into {Sizes(session)} (lineage, segment, day, tenant_id, delta) values (?, ?, ?, ?, ?) " +
            "on conflict (lineage, segment, day) do update set delta = excluded.delta + " + $"{Sizes(session)}.delta",
            lineage, segment, DateOnly.FromDateTime(at.ToDateTimeUtc()), session.TenantId, delta);
}
