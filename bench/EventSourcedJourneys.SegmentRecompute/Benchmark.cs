using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using EventSourcedJourneys.Api.Hosting;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Projections;
using JasperFx.Events;
using JasperFx.MultiTenancy;
using Marten;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedJourneys.SegmentRecompute;

/// <summary>
/// Recomputing one behavioural segment over a million contacts, through the production path every segment rebuild
/// takes (<see cref="Dispatch.Segments.SegmentRecompute"/>): the events are generated straight into the event store
/// with COPY (not through the API), then the segment is recomputed several times into fresh generations.
/// Usage: dotnet run -c Release --project bench/EventSourcedJourneys.SegmentRecompute -- \
///   [--contacts 1000000] [--runs 3] [--data-dir /tmp/esj-bench-segments] [--connection "Host=…"]
/// </summary>
public static class Benchmark
{
    private const string Workspace = "bench";
    private const string Definition = "segment active_buyers = count(event \"order_completed\" in last 45d) >= 1";
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 1, 8, 0);

    public static async Task<int> Main(string[] args)
    {
        var contacts = int.Parse(Arg(args, "--contacts", "1000000"));
        var runs = int.Parse(Arg(args, "--runs", "3"));
        LocalPostgresCluster? cluster = null;
        var connection = Arg(args, "--connection", "");
        if (connection.Length == 0)
        {
            cluster = await LocalPostgresCluster.StartAsync(new LocalClusterOptions(Arg(args, "--data-dir", "/tmp/esj-bench-segments")),
                NullLogger.Instance);
            connection = cluster.ConnectionString;
        }
        // Loading a million contacts on a busy machine outlasts Npgsql's default 30 s command timeout.
        connection = new NpgsqlConnectionStringBuilder(connection) { CommandTimeout = 0 }.ConnectionString;
        try
        {
            var options = new StoreOptions();
            options.Connection(connection);
            options.DatabaseSchemaName = "journeys";
            options.UseSystemTextJsonForSerialization(configure: json => JourneysJson.Configure(json));
            options.Events.TenancyStyle = TenancyStyle.Conjoined;
            options.Policies.AllDocumentsAreMultiTenanted();
            options.AddJourneyProjections();
            using var store = new DocumentStore(options);
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

            var (events, expected) = await GenerateAsync(connection, contacts);
            Console.WriteLine($"dataset: {contacts:N0} contacts, {events:N0} events ({expected:N0} contacts ordered in the last 45 days)");

            var compiled = RuleCompiler.Compile(Definition).Document!.FindSegment("active_buyers")!;
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Definition))).ToLowerInvariant();
            var segment = new LiveSegment(new SegmentDefinition("active_buyers", 1, hash), compiled);
            var recompute = new Dispatch.Segments.SegmentRecompute(store, new ProfileContactFacts());
            for (var run = 1; run <= runs; run++)
            {
                var generation = Guid.CreateVersion7();
                var clock = Stopwatch.StartNew();
                var result = await recompute.RunAsync(Workspace, [new SegmentTarget(segment, generation)], long.MaxValue, Now, null, CancellationToken.None);
                clock.Stop();
                var size = result.Sizes["active_buyers"];
                Console.WriteLine($"run {run}: {clock.Elapsed.TotalSeconds:F1} s — {result.Contacts:N0} contacts evaluated, {result.Events:N0} events read, " +
                                  $"{size:N0} members written, {result.Reviews.Count:N0} time reviews found " +
                                  $"({result.Events / clock.Elapsed.TotalSeconds:N0} events/s){(size == expected ? "" : $" — WRONG, expected {expected:N0}")}");
                await ExecuteAsync(connection, $"delete from journeys.segment_members where generation = '{generation}'");
                if (size != expected) return 2;
            }
            return 0;
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync();
        }
    }

    /// <summary>Contact i has a page view (noise the query must skip) and 0, 1 or 2 orders spread over 90 days.</summary>
    private static async Task<(long Events, long Expected)> GenerateAsync(string connectionString, int contacts)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var planned = Expected(contacts);
        await using (var count = new NpgsqlCommand(
                         "select (select count(*) from journeys.mt_events where tenant_id = $1) + (select count(*) from journeys.mt_doc_contactprofile where tenant_id = $1)",
                         connection))
        {
            count.Parameters.Add(new NpgsqlParameter { Value = Workspace });
            if ((long)(await count.ExecuteScalarAsync())! == planned.Events + contacts)
            {
                Console.WriteLine("reusing the generated dataset");
                return planned;
            }
        }
        var clock = Stopwatch.StartNew();
        await ExecuteAsync(connectionString, "truncate journeys.mt_events, journeys.mt_streams, journeys.mt_doc_contactprofile, journeys.segment_members");
        var tracked = typeof(Domain.Contacts.ContactTracked);
        var page = typeof(Domain.Contacts.PageViewed);
        var profileType = typeof(Projections.Contacts.ContactProfile);
        long sequence = 0;
        long expected = 0;

        await using (var streams = await connection.BeginBinaryImportAsync(
                         "copy journeys.mt_streams (id, version, tenant_id) from stdin (format binary)"))
        {
            for (var i = 0; i < contacts; i++)
            {
                await streams.StartRowAsync();
                await streams.WriteAsync(ContactId(i), NpgsqlDbType.Uuid);
                await streams.WriteAsync((long)(1 + Orders(i).Length), NpgsqlDbType.Bigint);
                await streams.WriteAsync(Workspace, NpgsqlDbType.Varchar);
            }
            await streams.CompleteAsync();
        }
        await using (var profiles = await connection.BeginBinaryImportAsync(
                         "copy journeys.mt_doc_contactprofile (id, data, tenant_id, mt_dotnet_type) from stdin (format binary)"))
        {
            for (var i = 0; i < contacts; i++)
            {
                var id = ContactId(i);
                await profiles.StartRowAsync();
                await profiles.WriteAsync(id, NpgsqlDbType.Uuid);
                await profiles.WriteAsync($$"""{"Id":"{{id}}","UserIds":["u{{i}}"],"Events":{{1 + Orders(i).Length}},"MergedContactIds":[]}""", NpgsqlDbType.Jsonb);
                await profiles.WriteAsync(Workspace, NpgsqlDbType.Varchar);
                await profiles.WriteAsync(profileType.FullName + ", " + profileType.Assembly.GetName().Name, NpgsqlDbType.Varchar);
            }
            await profiles.CompleteAsync();
        }
        await using (var events = await connection.BeginBinaryImportAsync(
                         "copy journeys.mt_events (seq_id, id, stream_id, version, data, type, tenant_id, mt_dotnet_type) from stdin (format binary)"))
        {
            for (var i = 0; i < contacts; i++)
            {
                var id = ContactId(i);
                var version = 0L;
                async Task WriteAsync(Type type, string name, string json)
                {
                    await events.StartRowAsync();
                    await events.WriteAsync(++sequence, NpgsqlDbType.Bigint);
                    await events.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                    await events.WriteAsync(id, NpgsqlDbType.Uuid);
                    await events.WriteAsync(++version, NpgsqlDbType.Bigint);
                    await events.WriteAsync(json, NpgsqlDbType.Jsonb);
                    await events.WriteAsync(name, NpgsqlDbType.Varchar);
                    await events.WriteAsync(Workspace, NpgsqlDbType.Varchar);
                    await events.WriteAsync(type.FullName + ", " + type.Assembly.GetName().Name, NpgsqlDbType.Varchar);
                }
                await WriteAsync(page, page.GetEventTypeName(), Call(id, i, "page", null, Now - Duration.FromDays(i % 30)));
                var orders = Orders(i);
                foreach (var daysAgo in orders)
                    await WriteAsync(tracked, tracked.GetEventTypeName(), Call(id, i, "track", "order_completed", Now - Duration.FromDays(daysAgo)));
                if (orders.Any(d => d <= 45)) expected++;
            }
            await events.CompleteAsync();
        }
        await ExecuteAsync(connectionString, $"select setval('journeys.mt_events_sequence', {sequence}); analyze journeys.mt_events; " +
                                             "analyze journeys.mt_streams; analyze journeys.mt_doc_contactprofile");
        Console.WriteLine($"generated with COPY in {clock.Elapsed.TotalSeconds:F0} s");
        return (sequence, expected);
    }

    private static (long Events, long Expected) Expected(int contacts)
    {
        long events = 0, expected = 0;
        for (var i = 0; i < contacts; i++)
        {
            var orders = Orders(i);
            events += 1 + orders.Length;
            if (orders.Any(d => d <= 45)) expected++;
        }
        return (events, expected);
    }

    /// <summary>Days ago of contact i's orders: 40 % none, 40 % one, 20 % two, spread evenly over 0–89 days.</summary>
    private static int[] Orders(int i) => (i % 5) switch
    {
        0 or 1 => [],
        2 or 3 => [i * 7 % 90],
        _ => [i * 7 % 90, i * 13 % 90],
    };

    private static string Call(Guid id, int i, string kind, string? name, Instant at) => kind == "page"
        ? $$"""{"ContactId":"{{id}}","MessageId":"p-{{i}}","Name":"home","Category":null,"Properties":{},"Context":{},"Timestamp":"{{at}}","ReceivedAt":"{{at}}","UserId":"u{{i}}","AnonymousId":null}"""
        : $$"""{"ContactId":"{{id}}","MessageId":"o-{{i}}-{{at.ToUnixTimeSeconds()}}","Event":"{{name}}","Properties":{"total":40},"Context":{},"Timestamp":"{{at}}","ReceivedAt":"{{at}}","UserId":"u{{i}}","AnonymousId":null}""";

    private static Guid ContactId(int i)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, i * 2654435761u);
        BitConverter.TryWriteBytes(bytes[4..], i);
        bytes[8] = 0x80;
        return new Guid(bytes);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}
