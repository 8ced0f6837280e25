using Npgsql;

namespace EventSourcedJourneys.Tests.Rebuilds;

/// <summary>
/// The content of every table in the database except the event store's own and Wolverine's: each row as JSON without
/// bookkeeping that differs by nature between two builds of the same content — Marten's columns (mt_*: version, last
/// modified …), the generation a row belongs to (<c>generation</c>, <c>*_generation</c>, <c>generation_id</c> columns of
/// blue/green read models) and the tables recording which generation is live (<c>*generation*</c>). PostgreSQL's jsonb
/// text is canonical (keys in a fixed order), so equal content is equal text. Read models added later are included
/// without being named here.
/// Segment memberships are blue/green by generation (ADR 0011): a rebuild writes the same members under a new generation
/// id, stamped with the rebuild's instant. Their tables are read for what they mean — who is in which segment, built
/// from which definition — see <see cref="Normalized"/>.
/// </summary>
public static class ReadModelSnapshot
{
    private static readonly string[] EventStoreTables = ["mt_events", "mt_streams", "mt_event_progression", "mt_doc_projectiongeneration"];

    public static async Task<SortedDictionary<string, List<string>>> TakeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<(string Schema, string Name)>();
        await using (var find = new NpgsqlCommand(
                         "select table_schema, table_name from information_schema.tables " +
                         "where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') " +
                         "and table_name not like 'wolverine%' and table_name not like 'mt_hilo%' and table_name not like '%generation%' " +
                         "and not (table_name = any(@excluded))", connection))
        {
            find.Parameters.AddWithValue("excluded", EventStoreTables);
            await using var reader = await find.ExecuteReaderAsync();
            while (await reader.ReadAsync()) tables.Add((reader.GetString(0), reader.GetString(1)));
        }

        var snapshot = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (schema, name) in tables)
        {
            await using var read = new NpgsqlCommand(Normalized(schema, name) ??
                $"select (to_jsonb(t) - array(select column_name::text from information_schema.columns " +
                $"where table_schema = @schema and table_name = @name and (column_name like 'mt\\_%' or column_name = 'generation' " +
                $"or column_name like '%\\_generation' or column_name = 'generation_id')))::text from \"{schema}\".\"{name}\" t",
                connection);
            read.Parameters.AddWithValue("schema", schema);
            read.Parameters.AddWithValue("name", name);
            var rows = new List<string>();
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
            rows.Sort(StringComparer.Ordinal);
            snapshot[$"{schema}.{name}"] = rows;
        }
        return snapshot;
    }

    /// <summary>The rows of the segment tables without generation ids and build instants: members by segment name, the
    /// catalog by the definition each segment was built from.</summary>
    private static string? Normalized(string schema, string name) => name switch
    {
        "segment_members" =>
            $"select jsonb_build_object('tenant_id', m.tenant_id, 'segment', e.key, 'contact_id', m.contact_id)::text " +
            $"from \"{schema}\".segment_members m join \"{schema}\".mt_doc_segmentcatalog c on c.tenant_id = m.tenant_id " +
            "cross join lateral jsonb_each(c.data->'Current') e where (e.value->>'Generation')::uuid = m.generation",
        "mt_doc_segmentcatalog" =>
            $"select jsonb_build_object('tenant_id', c.tenant_id, 'current', (select jsonb_object_agg(e.key, " +
            "e.value - 'Generation' - 'BuiltAt' - 'BuiltFromSequence') from jsonb_each(c.data->'Current') e))::text " +
            $"from \"{schema}\".mt_doc_segmentcatalog c",
        _ => null,
    };
}
