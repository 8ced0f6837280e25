using System.Text;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Compilation;
using JasperFx.Events;
using Marten;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>One step of a funnel report. Conversions are fractions (0.25 = 25 %); times are between the previous step
/// and this one in the contacts' chosen chains; <see cref="DropOff"/> is who reached the previous step but not this one.</summary>
public sealed record FunnelStepReport(
    int Step,
    string Event,
    long Contacts,
    double? ConversionFromPrevious,
    double? ConversionFromFirst,
    Duration? MedianTimeFromPrevious,
    Duration? P90TimeFromPrevious,
    long DropOff);

/// <summary>The contacts of one breakdown value (null: the trait or property is not set).</summary>
public sealed record FunnelBreakdownGroup(string? Value, IReadOnlyList<FunnelStepReport> Steps);

public sealed record FunnelBreakdownReport(string By, IReadOnlyList<FunnelBreakdownGroup> Groups);

/// <summary>A newer computation under way (a new definition version or a rebuild); the report is not from it yet.</summary>
public sealed record FunnelRebuildStatus(int DefinitionVersion, Instant StartedAt, long Done, long Total);

public sealed record FunnelReport(
    string Funnel,
    int DefinitionVersion,
    string ContentHash,
    Instant ComputedAt,
    Instant? From,
    Instant? To,
    Duration Window,
    IReadOnlyList<FunnelStepReport> Steps,
    FunnelBreakdownReport? Breakdown,
    FunnelRebuildStatus? Rebuilding);

public enum FunnelBreakdownKind
{
    Trait,
    Property,
    Campaign,
}

/// <summary><c>trait:plan</c>, <c>property:utm_source</c> or <c>campaign:welcome_email</c>.</summary>
public sealed record FunnelBreakdown(FunnelBreakdownKind Kind, string Name)
{
    public static bool TryParse(string text, out FunnelBreakdown? breakdown)
    {
        breakdown = null;
        var colon = text.IndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        FunnelBreakdownKind? kind = text[..colon] switch
        {
            "trait" => FunnelBreakdownKind.Trait,
            "property" => FunnelBreakdownKind.Property,
            "campaign" => FunnelBreakdownKind.Campaign,
            _ => null,
        };
        if (kind is null) return false;
        breakdown = new FunnelBreakdown(kind.Value, text[(colon + 1)..]);
        return true;
    }

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Name}";
}

/// <summary>
/// Computes a funnel report from the active generation with one aggregate query (docs/semantics.md, "Funnels"): each
/// contact's chain is chosen among its step-1 events in the range (deepest, then earliest step-1 event, then first
/// stored) — read as the contact's best chains of the whole UTC periods inside the range and its chains of the partial
/// days at the ends (ADR 0013); counts and exact time percentiles are aggregated per step over the chosen chains.
/// </summary>
public static class FunnelReports
{
    public const string Exposed = "exposed";
    public const string NotExposed = "not exposed";

    public static async Task<FunnelReport> ComputeAsync(IDocumentStore store, string tenant, FunnelDefinition definition,
        Instant? from, Instant? to, FunnelBreakdown? breakdown, CancellationToken cancellation)
    {
        var active = definition.Active ?? throw new InvalidOperationException($"Funnel '{definition.Id}' has no computed data yet.");
        var funnel = FunnelProjection.Compile(definition.Id, active)
            ?? throw new InvalidOperationException($"Funnel '{definition.Id}' v{active.Version} does not compile.");
        var tables = new FunnelStore(store.Options.Events.DatabaseSchemaName);
        var n = funnel.Steps.Count;

        var group = breakdown is null ? "null::text" : GroupExpression(tables, breakdown.Kind);

        var columns = new StringBuilder();
        for (var k = 1; k <= n; k++)
        {
            columns.Append($", count(*) filter (where depth >= {k})");
            if (k == 1) continue;
            columns.Append($", percentile_disc(array[0.5, 0.9]) within group (order by times[{k}] - times[{k - 1}]) filter (where depth >= {k})");
        }

        // The range as whole periods (one best chain per contact and period) and the partial days at its ends (chains).
        var parts = FunnelPeriods.Cover(from, to);
        var reads = parts.Select((part, i) => part.Kind is null
            ? $"select contact_id, step1_seq, step1_at, depth, times from {tables.Chains} " +
              $"where generation = @g and step1_at >= @from{i} and step1_at < @to{i}"
            : $"select contact_id, step1_seq, step1_at, depth, times from {tables.Periods} " +
              $"where generation = @g and kind = {(short)part.Kind} and period_start >= @from{i} and period_start < @to{i}").ToList();
        var chosen = parts switch
        {
            [] => $"select contact_id, step1_seq, step1_at, depth, times from {tables.Chains} where false",
            [{ IsSinglePeriod: true }] => reads[0],
            // The best row per contact without sorting the rows: the smallest of (-depth, step-1 time, sequence, times…).
            _ => "select contact_id, best[3] as step1_seq, timestamptz 'epoch' + best[2] * interval '1 microsecond' as step1_at, " +
                 "(-best[1])::smallint as depth, best[4:] as times from (" +
                 "select contact_id, min(array[-depth, times[1], step1_seq] || times) as best " +
                 $"from ({string.Join(" union all ", reads)}) parts group by contact_id) b",
        };
        var sql = $"""
            with chosen as ({chosen}), grouped as (
                select {group} as grp, depth, times from chosen c
            )
            select {(breakdown is null ? "1, null::text" : "grouping(grp), grp")}{columns} from grouped
            {(breakdown is null ? "" : "group by grouping sets ((), (grp))")}
            """;

        var overall = Empty(funnel.Steps.Select(s => s.EventName).ToArray());
        var groups = new List<FunnelBreakdownGroup>();
        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var memory = new NpgsqlCommand("set local work_mem = '64MB'", connection, transaction))
            await memory.ExecuteNonQueryAsync(cancellation);
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            command.Parameters.AddWithValue("g", active.Id);
            for (var i = 0; i < parts.Count; i++)
            {
                command.Parameters.AddWithValue($"from{i}", parts[i].From.ToDateTimeUtc());
                command.Parameters.AddWithValue($"to{i}", parts[i].To.ToDateTimeUtc());
            }
            command.Parameters.AddWithValue("tenant", tenant);
            command.Parameters.AddWithValue("name", breakdown?.Name ?? "");
            command.Parameters.AddWithValue("sent", typeof(MessageSent).GetEventTypeName());
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                var all = reader.GetInt32(0) == 1;
                if (all && breakdown is not null && !reader.IsDBNull(1)) continue;
                var steps = Steps(reader, funnel.Steps.Select(s => s.EventName).ToArray());
                if (all) overall = steps;
                else if (breakdown is not null) groups.Add(new FunnelBreakdownGroup(reader.IsDBNull(1) ? null : reader.GetString(1), steps));
            }
        }
        await transaction.CommitAsync(cancellation);

        return Assemble(definition, active, funnel, from, to, breakdown, overall, groups);
    }

    /// <summary>A breakdown's value for one chosen chain <c>c</c> (columns contact_id, step1_seq, step1_at); parameters
    /// @name, @g, @tenant and @sent.</summary>
    internal static string GroupExpression(FunnelStore tables, FunnelBreakdownKind kind) => kind switch
    {
        FunnelBreakdownKind.Property => $"(select e.data -> 'Properties' ->> @name from {tables.Events} e where e.seq_id = c.step1_seq)",
        FunnelBreakdownKind.Trait =>
            $"(select p.data -> 'Traits' ->> @name from {tables.People} m join {tables.Profiles} p on p.id = m.stream_id and p.tenant_id = @tenant " +
            "where m.generation = @g and m.contact_id = c.contact_id and jsonb_exists(p.data -> 'Traits', @name) " +
            "order by (p.data -> 'TraitTimes' ->> @name)::timestamptz desc nulls last, (m.stream_id = c.contact_id) desc limit 1)",
        FunnelBreakdownKind.Campaign =>
            $"case when exists (select 1 from {tables.People} m join {tables.Events} e on e.stream_id = m.stream_id " +
            "where m.generation = @g and m.contact_id = c.contact_id and e.tenant_id = @tenant and e.type = @sent " +
            $"and e.data ->> 'Rule' = @name and (e.data ->> 'SentAt')::timestamptz < c.step1_at) then '{Exposed}' else '{NotExposed}' end",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static IReadOnlyList<FunnelStepReport> Empty(string[] events) => Steps(null, events);

    private static IReadOnlyList<FunnelStepReport> Steps(NpgsqlDataReader? reader, string[] events)
    {
        var counts = new long[events.Length];
        var medians = new long?[events.Length];
        var p90s = new long?[events.Length];
        var column = 2;
        for (var k = 1; k <= events.Length; k++)
        {
            counts[k - 1] = reader?.GetInt64(column++) ?? 0;
            if (k == 1) continue;
            var percentiles = reader is null || reader.IsDBNull(column) ? null : reader.GetFieldValue<long?[]>(column);
            column++;
            medians[k - 1] = percentiles?[0];
            p90s[k - 1] = percentiles?[1];
        }
        return Steps(events, counts, medians, p90s);
    }

    /// <summary>The steps of a report from each step's contacts and time percentiles (µs, from the previous step).</summary>
    internal static IReadOnlyList<FunnelStepReport> Steps(string[] events, long[] counts, long?[] medians, long?[] p90s)
    {
        var steps = new List<FunnelStepReport>(events.Length);
        long first = 0, previous = 0;
        for (var k = 1; k <= events.Length; k++)
        {
            var contacts = counts[k - 1];
            if (k == 1) first = contacts;
            steps.Add(new FunnelStepReport(k, events[k - 1], contacts,
                k == 1 ? (first > 0 ? 1.0 : null) : Ratio(contacts, previous),
                Ratio(contacts, first),
                k == 1 ? null : Micros(medians[k - 1]), k == 1 ? null : Micros(p90s[k - 1]),
                k == 1 ? 0 : previous - contacts));
            previous = contacts;
        }
        return steps;
    }

    /// <summary>The report as the endpoint returns it, from the overall steps and the breakdown's groups (any order).</summary>
    internal static FunnelReport Assemble(FunnelDefinition definition, FunnelGeneration active, CompiledFunnel funnel, Instant? from, Instant? to,
        FunnelBreakdown? breakdown, IReadOnlyList<FunnelStepReport> overall, IEnumerable<FunnelBreakdownGroup> groups)
    {
        var ordered = groups.OrderBy(g => g.Value is null).ThenByDescending(g => g.Steps[0].Contacts)
            .ThenBy(g => g.Value, StringComparer.Ordinal).ToList();
        var rebuilding = definition.Building is { } b ? new FunnelRebuildStatus(b.Version, b.StartedAt, b.Done, b.Total) : null;
        return new FunnelReport(definition.Id, active.Version, active.ContentHash, active.CompletedAt ?? active.StartedAt, from, to,
            funnel.Within, overall, breakdown is null ? null : new FunnelBreakdownReport(breakdown.ToString(), ordered), rebuilding);
    }

    private static Duration? Micros(long? micros) => micros is { } m ? Duration.FromTicks(m * 10) : null;

    private static double? Ratio(long part, long whole) => whole == 0 ? null : Math.Round((double)part / whole, 4);
}
