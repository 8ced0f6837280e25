using System.Buffers;
using System.Collections.Concurrent;
using Marten;
using Npgsql;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>
/// Chains in columns, sorted by step-1 time then store sequence (ADR 0017). Times are as the tables store them: epoch
/// microseconds. <see cref="Deltas"/> holds, per chain, the time from each step to the next (<see cref="Stride"/> =
/// steps − 1 values, zero beyond the chain's depth).
/// </summary>
internal sealed class ChainColumns
{
    public static readonly ChainColumns Empty = new(0, 0);

    public ChainColumns(int count, int stride)
    {
        Count = count;
        Stride = stride;
        At = new long[count];
        Sequence = new long[count];
        Contact = new int[count];
        Depth = new byte[count];
        Deltas = new long[count * stride];
    }

    public int Count { get; }
    public int Stride { get; }
    public long[] At { get; }
    public long[] Sequence { get; }
    public int[] Contact { get; }
    public byte[] Depth { get; }
    public long[] Deltas { get; }

    public long Bytes => Count * (8L + 8 + 4 + 1 + 8L * Stride);

    public bool IsSorted()
    {
        for (var i = 1; i < Count; i++)
        {
            if (At[i] < At[i - 1] || (At[i] == At[i - 1] && Sequence[i] < Sequence[i - 1])) return false;
        }
        return true;
    }

    /// <summary>The first chain whose step-1 time is at or after <paramref name="at"/>.</summary>
    public int LowerBound(long at)
    {
        int low = 0, high = Count;
        while (low < high)
        {
            var middle = (int)(((uint)low + (uint)high) >> 1);
            if (At[middle] < at) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    /// <summary>These chains reordered by step-1 time, then sequence.</summary>
    public ChainColumns Sorted()
    {
        var order = Enumerable.Range(0, Count).ToArray();
        Array.Sort(order, (a, b) => At[a] != At[b] ? At[a].CompareTo(At[b]) : Sequence[a].CompareTo(Sequence[b]));
        return Select(order);
    }

    public ChainColumns Select(IReadOnlyList<int> rows)
    {
        var result = new ChainColumns(rows.Count, Stride);
        for (var i = 0; i < rows.Count; i++) result.CopyFrom(i, this, rows[i]);
        return result;
    }

    public void CopyFrom(int to, ChainColumns source, int from)
    {
        At[to] = source.At[from];
        Sequence[to] = source.Sequence[from];
        Contact[to] = source.Contact[from];
        Depth[to] = source.Depth[from];
        Array.Copy(source.Deltas, from * Stride, Deltas, to * Stride, Stride);
    }
}

/// <summary>
/// One generation of one funnel in memory at one version (ADR 0017): the chains loaded from <c>funnel_chains</c>
/// (<see cref="Base"/>), and the chains of contacts changed since then (<see cref="Overlay"/>; their chains in the base
/// are ignored, marked in <see cref="Replaced"/>). Immutable: a change makes a new state, so reports never lock.
/// </summary>
internal sealed class FunnelIndexState(
    Guid generation, long version, int steps, ChainColumns @base, ChainColumns overlay, ulong[] replaced, FunnelIndexes.Lineage lineage)
{
    public Guid Generation { get; } = generation;
    public long Version { get; } = version;
    public int Steps { get; } = steps;
    public ChainColumns Base { get; } = @base;
    public ChainColumns Overlay { get; } = overlay;
    public ulong[] Replaced { get; } = replaced;

    /// <summary>Contact ids by ordinal; only the first <see cref="ContactCount"/> belong to this state (the array is
    /// shared with later states, which append).</summary>
    public Guid[] Contacts { get; } = lineage.Contacts;

    public int ContactCount { get; } = lineage.Count;

    /// <summary>The ordinals shared by the states made from the same base (only changed under the index's gate).</summary>
    public FunnelIndexes.Lineage Lineage { get; } = lineage;

    public long Bytes => Base.Bytes + Overlay.Bytes + Replaced.Length * 8L + Contacts.Length * 16L;

    public bool IsReplaced(int contact) => (Replaced[contact >> 6] & (1UL << contact)) != 0;

    /// <summary>Ranges with more chains than this are scanned in two halves at once, merged per contact.</summary>
    private const int ParallelFrom = 400_000;

    /// <summary>
    /// Each contact's chosen chain among its chains with a step-1 time in [from, to) (µs): the deepest, then the earliest
    /// step-1 event, then the first stored — the scan runs in that order, so the first deepest chain seen wins. What the
    /// report needs of the chosen chain is copied as the scan finds it, into one record per contact (the chain arrays are
    /// read sequentially and are far larger than the per-contact records). Large ranges are scanned as two halves in
    /// parallel; per contact the first half's chain wins unless the second half's is deeper (it comes later in the
    /// order). <paramref name="codes"/>: a property column of the base chains to carry along.
    /// </summary>
    public Choice Choose(long from, long to, int[]? codes)
    {
        var stride = Base.Stride;
        var width = 2 + stride;
        var count = Math.Max(ContactCount, 1);
        var first = Base.LowerBound(from);
        var end = Base.LowerBound(to);
        var split = end - first > ParallelFrom ? first + (end - first) / 2 : end;
        var depth = ArrayPool<byte>.Shared.Rent(count);
        var best = ArrayPool<long>.Shared.Rent(count * width);
        var later = split < end ? ArrayPool<byte>.Shared.Rent(count) : null;
        var laterBest = later is null ? null : ArrayPool<long>.Shared.Rent(count * width);
        try
        {
            var second = later is null ? null : Task.Run(() =>
            {
                Array.Clear(later, 0, ContactCount);
                Scan(Base, split, end, later, laterBest!, skipReplaced: true, overlay: false);
            });
            Array.Clear(depth, 0, ContactCount);
            Scan(Base, first, split, depth, best, skipReplaced: true, overlay: false);
            Scan(Overlay, Overlay.LowerBound(from), Overlay.LowerBound(to), depth, best, skipReplaced: false, overlay: true);
            second?.GetAwaiter().GetResult();

            var touched = 0;
            for (var contact = 0; contact < ContactCount; contact++)
            {
                if (later is not null && later[contact] > depth[contact])
                {
                    depth[contact] = later[contact];
                    Array.Copy(laterBest!, contact * width, best, contact * width, width);
                }
                if (depth[contact] != 0) touched++;
            }
            var choice = new Choice(touched, stride);
            var n = 0;
            for (var contact = 0; contact < ContactCount && n < touched; contact++)
            {
                if (depth[contact] == 0) continue;
                var record = contact * width;
                choice.Contact[n] = contact;
                choice.Depth[n] = depth[contact];
                choice.At[n] = best[record];
                choice.Row[n] = (int)(best[record + 1] >> 32);
                choice.Code[n] = (int)best[record + 1];
                Array.Copy(best, record + 2, choice.Deltas, n * stride, stride);
                n++;
            }
            return choice;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(depth);
            ArrayPool<long>.Shared.Return(best);
            if (later is not null) ArrayPool<byte>.Shared.Return(later);
            if (laterBest is not null) ArrayPool<long>.Shared.Return(laterBest);
        }

        void Scan(ChainColumns chains, int start, int stop, byte[] depths, long[] records, bool skipReplaced, bool overlay)
        {
            var length = stop - start;
            if (length <= 0) return;
            var contacts = chains.Contact.AsSpan(start, length);
            var chainDepths = chains.Depth.AsSpan(start, length);
            var times = chains.At.AsSpan(start, length);
            var steps = chains.Deltas.AsSpan(start * stride, length * stride);
            var replaced = Replaced;
            for (var i = 0; i < contacts.Length; i++)
            {
                var contact = contacts[i];
                var d = chainDepths[i];
                if (d <= depths[contact]) continue;
                if (skipReplaced && (replaced[contact >> 6] & (1UL << contact)) != 0) continue;
                depths[contact] = d;
                var row = start + i;
                var record = contact * width;
                records[record] = times[i];
                records[record + 1] = ((long)(overlay ? ~row : row) << 32) | (uint)(codes is null ? 0 : overlay ? -1 : codes[row]);
                for (var k = 0; k < stride; k++) records[record + 2 + k] = steps[i * stride + k];
            }
        }
    }
}

/// <summary>The chosen chains of a report, one per contact, in columns: <see cref="Row"/> is the chain's row in the
/// base (≥ 0) or, complemented, in the overlay; <see cref="Code"/> the carried property code (−1: an overlay chain).</summary>
internal sealed class Choice(int count, int stride)
{
    public int Count { get; } = count;
    public int Stride { get; } = stride;
    public int[] Contact { get; } = new int[count];
    public byte[] Depth { get; } = new byte[count];
    public long[] At { get; } = new long[count];
    public int[] Row { get; } = new int[count];
    public int[] Code { get; } = new int[count];
    public long[] Deltas { get; } = new long[count * stride];

    public long Sequence(FunnelIndexState state, int i) => Row[i] >= 0 ? state.Base.Sequence[Row[i]] : state.Overlay.Sequence[~Row[i]];
}

/// <summary>Per-step counts and exact percentiles of chosen chains, per group, as PostgreSQL's <c>percentile_disc</c>
/// computes them (the value at row ⌈p·N⌉ of the sorted values, at least the first).</summary>
internal static class StepAggregate
{
    /// <summary>The steps of each group 0 … <paramref name="groups"/> − 1 (<paramref name="group"/> null: one group).</summary>
    public static IReadOnlyList<FunnelStepReport>[] Steps(Choice choice, string[] events, int[]? group, int groups)
    {
        var steps = events.Length;
        var counts = new long[groups, steps];
        for (var i = 0; i < choice.Count; i++)
        {
            var g = group?[i] ?? 0;
            for (var k = 0; k < choice.Depth[i]; k++) counts[g, k]++;
        }
        var medians = new long?[groups, steps];
        var p90s = new long?[groups, steps];
        var start = new int[groups + 1];
        var position = new int[groups];
        for (var k = 2; k <= steps; k++)
        {
            for (var g = 0; g < groups; g++) start[g + 1] = start[g] + (int)counts[g, k - 1];
            var total = start[groups];
            if (total == 0) continue;
            var buffer = ArrayPool<long>.Shared.Rent(total);
            Array.Copy(start, position, groups);
            for (var i = 0; i < choice.Count; i++)
            {
                if (choice.Depth[i] < k) continue;
                buffer[position[group?[i] ?? 0]++] = choice.Deltas[i * choice.Stride + k - 2];
            }
            for (var g = 0; g < groups; g++)
            {
                var values = buffer.AsSpan(start[g], start[g + 1] - start[g]);
                if (values.Length == 0) continue;
                medians[g, k - 1] = PercentileDisc(values, 0.5);
                p90s[g, k - 1] = PercentileDisc(values, 0.9);
            }
            ArrayPool<long>.Shared.Return(buffer);
        }
        var result = new IReadOnlyList<FunnelStepReport>[groups];
        for (var g = 0; g < groups; g++)
        {
            result[g] = FunnelReports.Steps(events,
                Enumerable.Range(0, steps).Select(k => counts[g, k]).ToArray(),
                Enumerable.Range(0, steps).Select(k => medians[g, k]).ToArray(),
                Enumerable.Range(0, steps).Select(k => p90s[g, k]).ToArray());
        }
        return result;
    }

    /// <summary>percentile_disc over <paramref name="values"/> (reordered in place).</summary>
    public static long PercentileDisc(Span<long> values, double fraction)
    {
        var row = (long)Math.Ceiling(fraction * values.Length);
        var index = (int)Math.Max(row, 1) - 1;
        return Select(values, index);
    }


    /// <summary>The value that would be at <paramref name="k"/> if <paramref name="values"/> were sorted (quickselect;
    /// small spans are sorted).</summary>
    private static long Select(Span<long> values, int k)
    {
        var low = 0;
        var high = values.Length - 1;
        while (high - low > 32)
        {
            var middle = low + (high - low) / 2;
            // Median of three as the pivot.
            if (values[middle] < values[low]) (values[middle], values[low]) = (values[low], values[middle]);
            if (values[high] < values[low]) (values[high], values[low]) = (values[low], values[high]);
            if (values[high] < values[middle]) (values[high], values[middle]) = (values[middle], values[high]);
            var pivot = values[middle];
            int i = low, j = high;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i > j) break;
                (values[i], values[j]) = (values[j], values[i]);
                i++;
                j--;
            }
            if (k <= j) high = j;
            else if (k >= i) low = i;
            else return values[k];
        }
        values.Slice(low, high - low + 1).Sort();
        return values[k];
    }
}

/// <summary>
/// One event property of every base chain's step-1 event, dictionary-encoded (code 0: not set), read with the SQL
/// path's own expression. Events never change, so a value once read stays right; chains added since the base was
/// loaded are read when a report first needs them.
/// </summary>
internal sealed class PropertyColumn
{
    private const int Chunk = 50_000;

    private readonly int[] codes;
    private readonly ConcurrentDictionary<long, int> others = new();
    private readonly List<string?> values = [null];
    private readonly Dictionary<string, int> encoded = new(StringComparer.Ordinal);
    private readonly string name;
    private readonly FunnelStore tables;

    private PropertyColumn(ChainColumns chains, string name, FunnelStore tables)
    {
        Base = chains;
        codes = new int[chains.Count];
        this.name = name;
        this.tables = tables;
    }

    public ChainColumns Base { get; }

    public long Bytes => codes.Length * 4L + others.Count * 24L + values.Sum(v => 32L + 2L * (v?.Length ?? 0));

    public static async Task<PropertyColumn> LoadAsync(IDocumentStore store, ChainColumns chains, string name, CancellationToken cancellation)
    {
        var column = new PropertyColumn(chains, name, new FunnelStore(store.Options.Events.DatabaseSchemaName));
        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        for (var start = 0; start < chains.Count; start += Chunk)
        {
            var end = Math.Min(chains.Count, start + Chunk);
            var rows = new Dictionary<long, int>(end - start);
            for (var i = start; i < end; i++) rows[chains.Sequence[i]] = i;
            await column.ReadAsync(connection, null, rows.Keys.ToArray(), (sequence, code) => column.codes[rows[sequence]] = code, cancellation);
        }
        return column;
    }

    /// <summary>The base chains' codes, for <see cref="FunnelIndexState.Choose"/> to carry.</summary>
    public int[] Codes => codes;

    /// <summary>The code of each chosen chain's step-1 event (chains added since the base are read now), and the values
    /// by code (0: not set).</summary>
    public async Task<(int[] Codes, string?[] Values)> CodesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Choice choice,
        FunnelIndexState state, CancellationToken cancellation)
    {
        var result = new int[choice.Count];
        var missing = new List<long>();
        for (var i = 0; i < choice.Count; i++)
        {
            if (choice.Code[i] >= 0) result[i] = choice.Code[i];
            else if (others.TryGetValue(choice.Sequence(state, i), out var code)) result[i] = code;
            else missing.Add(choice.Sequence(state, i));
        }
        if (missing.Count > 0)
        {
            var read = new Dictionary<long, int>();
            await ReadAsync(connection, transaction, missing.ToArray(), (sequence, code) => read[sequence] = code, cancellation);
            foreach (var sequence in missing) others[sequence] = read.GetValueOrDefault(sequence);
            for (var i = 0; i < choice.Count; i++)
            {
                if (choice.Code[i] < 0) result[i] = others[choice.Sequence(state, i)];
            }
        }
        lock (values) return (result, values.ToArray());
    }

    private async Task ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long[] sequences, Action<long, int> store,
        CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"select e.seq_id, e.data -> 'Properties' ->> @name from {tables.Events} e where e.seq_id = any(@sequences)", connection, transaction);
        command.CommandTimeout = 0;
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("sequences", sequences);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
            store(reader.GetInt64(0), reader.IsDBNull(1) ? 0 : Encode(reader.GetString(1)));
    }

    private int Encode(string value)
    {
        lock (values)
        {
            if (encoded.TryGetValue(value, out var code)) return code;
            values.Add(value);
            return encoded[value] = values.Count - 1;
        }
    }
}
