using Npgsql;

namespace EventSourcedJourneys.Tests.Rebuilds;

/// <summary>
/// The content of every table in the database except the event store's own and Wolverine's: each row as JSON without
/// Marten's bookkeeping columns (mt_*: version, last modified …), which differ by nature between two writes of the same
/// document. PostgreSQL's jsonb text is canonical (keys in a fixed order), so equal content is equal text. Read models
/// added later are included without being named here.
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
                         "and table_name not like 'wolverine%' and table_name not like 'mt_hilo%' and not (table_name = any(@excluded))", connection))
        {
            find.Parameters.AddWithValue("excluded", EventStoreTables);
            await using var reader = await find.ExecuteReaderAsync();
            while (await reader.ReadAsync()) tables.Add((reader.GetString(0), reader.GetString(1)));
        }

        var snapshot = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (schema, name) in tables)
        {
            await using var read = new NpgsqlCommand(
                $"select (to_jsonb(t) - array(select column_name::text from information_schema.columns " +
                $"where table_schema = @schema and table_name = @name and column_name like 'mt\\_%'))::text from \"{schema}\".\"{name}\" t",
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
}
