using Marten;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourcedJourneys.Projections.Reports;

/// <summary>
/// Blue/green generations of the report read models (ADR 0010). Every row of a report table carries the generation it
/// belongs to; reads take the <c>current</c> one. A rebuild registers a <c>building</c> generation, from then on live
/// writes go to both, the rebuild replays the events into the new one, and the swap makes it current in one
/// transaction. Report rows are merged with commutative, idempotent upserts (earliest instant, or of flags, first
/// dimension value), so a live write and the replay of the same event may reach the new generation in either order.
/// </summary>
public static class ReportGenerations
{
    public const string Schema = "journeys";
    public const string TableName = Schema + ".report_generations";

    public static Table Table()
    {
        var table = new Table(TableName);
        table.AddColumn("name", "text").AsPrimaryKey();
        table.AddColumn("current", "integer").NotNull();
        table.AddColumn("building", "integer");
        return table;
    }

    /// <summary>Makes sure the read model's row exists (generation 1 until the first rebuild): live writes lock it.</summary>
    public static string EnsureRowStatement(string name) =>
        $"insert into {TableName} (name, current) values ('{name}', 1) on conflict (name) do nothing";

    /// <summary>
    /// The generations a live write goes to: the current one and the one being built. The row is read <c>for share</c>:
    /// a registration or swap (an update of the row) waits for writes in flight to commit, and a write that waited for
    /// one sees the row as the registration or swap left it (PostgreSQL re-reads a locked row's newest version).
    /// </summary>
    public static string LiveGenerationsSql(string name) =>
        $"(select x.generation from (select g.current, g.building from {TableName} g where g.name = '{name}' for share) r " +
        "cross join lateral (values (r.current), (r.building)) as x(generation) where x.generation is not null)";

    /// <summary>The generation reads are served from.</summary>
    public static string CurrentGenerationSql(string name) =>
        $"coalesce((select g.current from {TableName} g where g.name = '{name}'), 1)";

    /// <summary>Registers a new generation to build; null when a rebuild of this read model is already running.</summary>
    public static async Task<int?> BeginAsync(NpgsqlConnection connection, string name, IEnumerable<string> tables, CancellationToken cancellation)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await ExecuteAsync(connection, transaction, EnsureRowStatement(name), cancellation);
        await using var read = new NpgsqlCommand($"select building from {TableName} where name = @name for update", connection, transaction);
        read.Parameters.AddWithValue("name", name);
        var existing = await read.ExecuteScalarAsync(cancellation);
        if (existing is int) return null;

        await using var register = new NpgsqlCommand(
            $"update {TableName} set building = current + 1 where name = @name returning building", connection, transaction);
        register.Parameters.AddWithValue("name", name);
        var building = (int)(await register.ExecuteScalarAsync(cancellation))!;
        // Rows left by an earlier rebuild that did not finish (the process stopped) belong to no generation in use.
        foreach (var table in tables)
            await ExecuteAsync(connection, transaction, $"delete from {table} where generation = {building}", cancellation);
        await transaction.CommitAsync(cancellation);
        return building;
    }

    /// <summary>Makes the built generation current, then drops the rows of the previous one.</summary>
    public static async Task SwapAsync(NpgsqlConnection connection, string name, int building, IEnumerable<string> tables, CancellationToken cancellation)
    {
        await using (var transaction = await connection.BeginTransactionAsync(cancellation))
        {
            await using var swap = new NpgsqlCommand($"update {TableName} set current = building, building = null where name = @name and building = @building",
                connection, transaction);
            swap.Parameters.AddWithValue("name", name);
            swap.Parameters.AddWithValue("building", building);
            await swap.ExecuteNonQueryAsync(cancellation);
            await transaction.CommitAsync(cancellation);
        }
        foreach (var table in tables)
            await ExecuteAsync(connection, null, $"delete from {table} where generation <> {building}", cancellation);
    }

    /// <summary>Gives up a rebuild that failed: reads stay on the current generation, the partial rows go.</summary>
    public static async Task AbandonAsync(NpgsqlConnection connection, string name, int building, IEnumerable<string> tables)
    {
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var clear = new NpgsqlCommand($"update {TableName} set building = null where name = @name and building = @building", connection, transaction);
            clear.Parameters.AddWithValue("name", name);
            clear.Parameters.AddWithValue("building", building);
            await clear.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }
        foreach (var table in tables)
            await ExecuteAsync(connection, null, $"delete from {table} where generation = {building}", CancellationToken.None);
    }

    public static async Task<int> CurrentAsync(IQuerySession session, string name, CancellationToken cancellation) =>
        (await session.AdvancedSql.QueryAsync<int>($"select {CurrentGenerationSql(name)}", cancellation)).Single();

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellation);
    }
}
