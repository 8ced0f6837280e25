using System.Text.Json;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static EventSourcedJourneys.Tests.Funnels.FunnelApi;

namespace EventSourcedJourneys.Tests.Funnels;

/// <summary>
/// Reports read each contact's best chain per whole UTC day, month and the whole history, and the chains only for the
/// partial days at a range's ends (ADR 0013). The answers are those of docs/semantics.md whichever way a range is read,
/// a late event updates the periods it falls in, and a rebuild writes the same period rows as live processing.
/// </summary>
public sealed class when_a_funnel_report_reads_whole_periods(AppFixture app) : IntegrationTest(app)
{
    private const string Checkout = """
        funnel checkout = event "viewed" -> event "cart" -> event "order" within 1d
        """;

    [Fact]
    public async Task whole_periods_partial_days_and_late_events_give_the_chains_of_the_semantics()
    {
        await App.PublishFunnelAsync("checkout", Checkout);
        await App.TrackBatchAsync(
            new { type = "identify", userId = "ada", traits = new { plan = "pro" }, timestamp = "2026-09-01T00:00:00Z", messageId = "i-1" },
            // ada: a visit in October that goes nowhere, one in November that reaches the cart after 10 minutes.
            Track("ada", "viewed", "2026-10-05T10:00:00Z"),
            Track("ada", "viewed", "2026-11-03T10:00:00Z"),
            Track("ada", "cart", "2026-11-03T10:10:00Z"),
            // bob: a chain that starts on October's last evening and converts in November: it belongs to October.
            Track("bob", "viewed", "2026-10-31T23:30:00Z"),
            Track("bob", "cart", "2026-11-01T00:10:00Z"),
            Track("bob", "order", "2026-11-01T01:00:00Z"));

        Assert.Equal(new long[] { 2L, 2L, 1L }, await CountsAsync(""));
        Assert.Equal(new long[] { 2L, 1L, 1L }, await CountsAsync("from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z"));
        Assert.Equal(new long[] { 1L, 1L, 0L }, await CountsAsync("from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"));
        Assert.Equal(new long[] { 1L, 0L, 0L }, await CountsAsync("from=2026-10-05T00:00:00Z&to=2026-10-06T00:00:00Z"));
        // Partial days at both ends: ada's step-1 events at 10:00 lie just outside [10-05 12:00, 11-03 10:00).
        Assert.Equal(new long[] { 1L, 1L, 1L }, await CountsAsync("from=2026-10-05T12:00:00Z&to=2026-11-03T10:00:00Z"));
        // ... and inside [10-05 09:00, 11-03 10:05): the November chain is her deepest.
        var partial = await App.ReportAsync("checkout", "from=2026-10-05T09:00:00Z&to=2026-11-03T10:05:00Z");
        Assert.Equal(new long[] { 2L, 2L, 1L }, partial.GetProperty("steps").Counts());
        Assert.Equal("PT10M", partial.GetProperty("steps")[1].GetProperty("medianTimeFromPrevious").GetString());
        Assert.Equal("PT40M", partial.GetProperty("steps")[1].GetProperty("p90TimeFromPrevious").GetString());
        // Open ends.
        Assert.Equal(new long[] { 2L, 1L, 1L }, await CountsAsync("to=2026-11-03T00:00:00Z"));
        Assert.Equal(new long[] { 1L, 1L, 0L }, await CountsAsync("from=2026-11-01T00:00:00Z"));

        // Breakdowns over one whole month (one row per contact) and over a range with partial days.
        Assert.Equal(new long[] { 1L, 0L, 0L }, (await GroupsAsync("from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&breakdown=trait:plan"))["pro"]);
        var groups = await GroupsAsync("from=2026-10-05T09:00:00Z&to=2026-11-03T10:05:00Z&breakdown=trait:plan");
        Assert.Equal(new long[] { 1L, 1L, 0L }, groups["pro"]);
        Assert.Equal(new long[] { 1L, 1L, 1L }, groups["(not set)"]);

        // A cart from October 5th arrives late: October's best chain for ada, and her whole-history chain (the earliest
        // of her two of depth 2), change.
        await App.TrackBatchAsync(Track("ada", "cart", "2026-10-05T10:30:00Z"));
        Assert.Equal(new long[] { 2L, 2L, 1L }, await CountsAsync("from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z"));
        Assert.Equal(new long[] { 1L, 1L, 0L }, await CountsAsync("from=2026-10-05T00:00:00Z&to=2026-10-06T00:00:00Z"));
        var all = await App.ReportAsync("checkout");
        Assert.Equal(new long[] { 2L, 2L, 1L }, all.GetProperty("steps").Counts());
        Assert.Equal("PT30M", all.GetProperty("steps")[1].GetProperty("medianTimeFromPrevious").GetString());

        // Rebuilt from scratch, the period rows are the live ones.
        var store = App.Host.DocumentStore();
        var live = await RowsAsync(store);
        var rebuild = App.Host.Services.GetServices<IRebuildableProjection>().Single(p => p.Name == "funnels");
        await rebuild.RebuildAsync(new Progress<RebuildProgress>(_ => { }), CancellationToken.None);
        var rebuilt = await RowsAsync(store);
        Assert.NotEqual(live.Generation, rebuilt.Generation);
        Assert.Equal(live.Rows, rebuilt.Rows);
        Assert.Contains(live.Rows, r => r.StartsWith("Month 2026-10-01", StringComparison.Ordinal));
        Assert.Contains(live.Rows, r => r.StartsWith("All ", StringComparison.Ordinal));
    }

    private async Task<long[]> CountsAsync(string query) => (await App.ReportAsync("checkout", query)).GetProperty("steps").Counts();

    private async Task<Dictionary<string, long[]>> GroupsAsync(string query) =>
        (await App.ReportAsync("checkout", query)).GetProperty("breakdown").GetProperty("groups").EnumerateArray()
        .ToDictionary(g => g.GetProperty("value").GetString() ?? "(not set)", g => g.GetProperty("steps").Counts());

    private async Task<(Guid Generation, List<string> Rows)> RowsAsync(IDocumentStore store)
    {
        await using var session = store.QuerySession("acme");
        var generation = (await session.LoadAsync<FunnelDefinition>("checkout"))!.Active!.Id;
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        return (generation, await FunnelTables.PeriodRowsAsync(connection, generation));
    }
}

/// <summary>The stored period rows of a generation, comparable across generations.</summary>
public static class FunnelTables
{
    public static async Task<List<string>> PeriodRowsAsync(NpgsqlConnection connection, Guid generation)
    {
        await using var command = new NpgsqlCommand(
            "select kind, period_start, contact_id, step1_at, step1_seq, depth, times from journeys.funnel_periods where generation = @g " +
            "order by kind, period_start, contact_id", connection);
        command.Parameters.AddWithValue("g", generation);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add($"{(FunnelPeriodKind)reader.GetInt16(0)} {reader.GetDateTime(1):yyyy-MM-dd} {reader.GetGuid(2)} {reader.GetDateTime(3):O} " +
                     $"{reader.GetInt64(4)} {reader.GetInt16(5)} {string.Join(",", reader.GetFieldValue<long[]>(6))}");
        return rows;
    }
}
