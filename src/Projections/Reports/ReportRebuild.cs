using EventSourcedJourneys.Projections.Rebuilds;
using Marten;
using Npgsql;

namespace EventSourcedJourneys.Projections.Reports;

/// <summary>
/// Rebuilds one report read model from every workspace's events into a new generation, blue/green (ADR 0010): reads
/// keep the current generation until the new one is complete and swapped in.
/// </summary>
public sealed class ReportRebuild(IDocumentStore store, string name, IReadOnlyList<string> tables, Func<IReportRows> rows)
    : IRebuildableProjection
{
    public const int PageSize = 5000;

    public string Name => name;

    public async Task RebuildAsync(IProgress<RebuildProgress> progress, CancellationToken cancellation)
    {
        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        var building = await ReportGenerations.BeginAsync(connection, name, tables, cancellation)
            ?? throw new InvalidOperationException($"A rebuild of '{name}' is already running.");
        try
        {
            await ReplayAsync(connection, building, progress, cancellation);
            await ReportGenerations.SwapAsync(connection, name, building, tables, cancellation);
        }
        catch
        {
            await ReportGenerations.AbandonAsync(connection, name, building, tables);
            throw;
        }
    }

    private async Task ReplayAsync(NpgsqlConnection connection, int building, IProgress<RebuildProgress> progress, CancellationToken cancellation)
    {
        var events = $"{store.Options.Events.DatabaseSchemaName}.mt_events";
        long total;
        await using (var count = new NpgsqlCommand($"select count(*) from {events}", connection))
            total = (long)(await count.ExecuteScalarAsync(cancellation))!;
        progress.Report(new RebuildProgress(0, total));

        var serializer = store.Options.Serializer();
        var types = new Dictionary<string, Type?>(StringComparer.Ordinal);
        var generation = $"(select {building} as generation)";
        long after = 0, done = 0;
        while (true)
        {
            var page = rows();
            var read = 0;
            await using (var command = new NpgsqlCommand(
                $"select seq_id, tenant_id, mt_dotnet_type, data from {events} where seq_id > @after order by seq_id limit {PageSize}", connection))
            {
                command.Parameters.AddWithValue("after", after);
                await using var reader = await command.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    read++;
                    after = reader.GetInt64(0);
                    var dotnetType = reader.IsDBNull(2) ? null : reader.GetString(2);
                    if (dotnetType is null) continue;
                    if (!types.TryGetValue(dotnetType, out var type)) types[dotnetType] = type = Type.GetType(dotnetType, throwOnError: false);
                    if (type is null) continue;
                    using var json = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(reader.GetString(3)));
                    page.Add(reader.GetString(1), serializer.FromJson(type, json));
                }
            }
            if (read == 0) break;
            if (!page.IsEmpty) await WriteAsync(connection, page, generation, cancellation);
            done += read;
            progress.Report(new RebuildProgress(done, Math.Max(total, done)));
        }
    }

    private static async Task WriteAsync(NpgsqlConnection connection, IReportRows page, string generation, CancellationToken cancellation)
    {
        var (sql, parameters) = page.Upsert(generation);
        var index = 0;
        var positional = System.Text.RegularExpressions.Regex.Replace(sql, @"\?", _ => $"${++index}");
        await using var command = new NpgsqlCommand(positional, connection);
        foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync(cancellation);
    }
}
