using System.Diagnostics;
using System.Text;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Weasel.Core;

namespace EventSourcedJourneys.Projections.Rebuilds;

/// <summary>
/// A read model kept by a Marten projection (inline: written in the transaction that appends its events, and read by
/// the engine for its decisions), rebuilt blue/green (ADR 0009): the next generation is built into a shadow schema from
/// the same events — a single-stream projection folded stream by stream up to the last committed event (ADR 0015), any
/// other by Marten's own async daemon — then caught up by the daemon, and swapped in for the live table in one transaction
/// that holds appends back for the last few events. Until that commit every read — and every inline write — uses the
/// current generation.
/// </summary>
public sealed class MartenReadModel : IRebuildableProjection
{
    /// <summary>Events per daemon batch while rebuilding; Marten's default (500) is six times slower here (STACK-NOTES).</summary>
    public const int BatchSize = 5000;

    private static readonly TimeSpan ShardTimeout = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan SwapTimeout = TimeSpan.FromSeconds(60);

    private readonly DocumentStore _store;
    private readonly ShadowStoreOptions _shadowOptions;

    private MartenReadModel(DocumentStore store, ShadowStoreOptions shadowOptions, string projectionName, Type documentType)
    {
        _store = store;
        _shadowOptions = shadowOptions;
        ProjectionName = projectionName;
        DocumentType = documentType;
        Name = KebabCase(documentType.Name);
    }

    public string Name { get; }

    /// <summary>Marten's name of the projection (its shard is <c>{ProjectionName}:All</c>).</summary>
    public string ProjectionName { get; }

    public Type DocumentType { get; }

    /// <summary>True when the next generation is folded stream by stream from the events (ADR 0015); false when Marten's
    /// async daemon builds it.</summary>
    public bool RebuildsStreamByStream =>
        StreamByStreamBuild.For(_store.Options.Projections.All.Single(p => p.Name == ProjectionName),
            ((IReadOnlyStoreOptions)_store.Options).FindOrResolveDocumentType(DocumentType)) is not null;

    /// <summary>The live table, where reads and inline writes go.</summary>
    public DbObjectName LiveTable => ((IReadOnlyStoreOptions)_store.Options).FindOrResolveDocumentType(DocumentType).TableName;

    /// <summary>
    /// Every inline Marten projection of the store that keeps one document type: the read models the engine and the API
    /// read directly. An inline projection that writes elsewhere (its own SQL tables) registers its own
    /// <see cref="IRebuildableProjection"/>.
    /// </summary>
    public static IReadOnlyList<MartenReadModel> AllOf(IDocumentStore store, ShadowStoreOptions shadowOptions)
    {
        var documentStore = (DocumentStore)store;
        return documentStore.Options.Projections.All
            .Where(p => p.Lifecycle == ProjectionLifecycle.Inline)
            .Select(p => (Projection: p, Documents: p.PublishedTypes().Distinct().ToList()))
            .Where(p => p.Documents.Count == 1)
            .Select(p => new MartenReadModel(documentStore, shadowOptions, p.Projection.Name, p.Documents[0]))
            .ToList();
    }

    /// <summary>Where the last rebuild in this process spent its time, phase by phase (for benchmarks and operators).</summary>
    public IReadOnlyList<RebuildPhase> LastRebuildPhases { get; private set; } = [];

    public async Task RebuildAsync(IProgress<RebuildProgress> progress, CancellationToken cancellation)
    {
        var live = LiveTable;
        var shadowSchema = ShadowSchemaFor(live);
        var phases = new PhaseClock();
        await ExecuteAsync($"drop schema if exists {shadowSchema} cascade", cancellation);
        try
        {
            using var shadow = new DocumentStore(ShadowOptions(shadowSchema));
            await shadow.Storage.Database.EnsureStorageExistsAsync(DocumentType, cancellation);
            using var daemon = await shadow.BuildProjectionDaemonAsync();
            var observer = new ProgressObserver($"{ProjectionName}:", await LastSequenceAsync(cancellation), progress);
            phases.End("shadow store and daemon set up");
            using (daemon.Tracker.Subscribe(observer))
            {
                progress.Report(new RebuildProgress(0, observer.Total));
                // Green: every event up to now, then whatever was appended meanwhile; reads still go to blue.
                var projection = shadow.Options.Projections.All.Single();
                var documentType = ((IReadOnlyStoreOptions)shadow.Options).FindOrResolveDocumentType(DocumentType);
                if (StreamByStreamBuild.For(projection, documentType) is { } streamByStream)
                {
                    var ceiling = await CommittedCeilingAsync(cancellation);
                    observer.Total = Math.Max(observer.Total, ceiling);
                    await streamByStream.BuildAsync(shadow, ceiling, observer.Report, cancellation);
                    await SetShadowProgressAsync(ceiling, cancellation);
                    phases.End("stream-by-stream build up to the committed ceiling");
                }
                else
                {
                    await daemon.RebuildProjectionAsync(ProjectionName, ShardTimeout, cancellation);
                    phases.End("daemon rebuild");
                }
                await daemon.CatchUpAsync(cancellation);
                phases.End("daemon catch-up");
                await SwapAsync(shadow, daemon, live, shadowSchema, observer, cancellation);
                phases.End("swap under the events lock");
            }
            await daemon.StopAllAsync();
        }
        finally
        {
            await ExecuteAsync(
                $"delete from {_store.Options.Events.DatabaseSchemaName}.mt_event_progression where name = '{ProjectionName}:All'; " +
                $"drop schema if exists {shadowSchema} cascade", CancellationToken.None);
            phases.End("clean-up");
            LastRebuildPhases = phases.Phases;
        }
    }

    private StoreOptions ShadowOptions(string shadowSchema)
    {
        var options = _shadowOptions(shadowSchema);
        var projection = options.Projections.All.Single(p => p.Name == ProjectionName);
        options.Projections.All.RemoveAll(p => !ReferenceEquals(p, projection));
        if (projection is not ProjectionBase configurable)
            throw new InvalidOperationException($"The projection '{ProjectionName}' cannot be run by the daemon.");
        configurable.Lifecycle = ProjectionLifecycle.Async;
        configurable.Options.BatchSize = BatchSize;
        // At the swap every event below the ceiling is committed: a gap is a rolled-back append, skip it at once.
        options.Projections.StaleSequenceThreshold = TimeSpan.FromMilliseconds(200);
        // This class drives the shadow store's daemon itself (Marten would otherwise warn that nothing runs it).
        options.Projections.AsyncMode = DaemonMode.ExternallyManaged;
        return options;
    }

    /// <summary>
    /// Holds appends back (an EXCLUSIVE lock on the events table lets reads through but waits for, then blocks, every
    /// append), brings green up to the last committed event, then drops blue and moves green in — one transaction, so
    /// readers see either the old table or the complete new one, and no event falls between the two.
    /// </summary>
    private async Task SwapAsync(DocumentStore shadow, IProjectionDaemon daemon, DbObjectName live, string shadowSchema,
        ProgressObserver observer, CancellationToken cancellation)
    {
        await using var connection = _store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var events = $"{_store.Options.Events.DatabaseSchemaName}.mt_events";
        await using (var lockEvents = new Npgsql.NpgsqlCommand($"lock table {events} in exclusive mode", connection, transaction))
            await lockEvents.ExecuteNonQueryAsync(cancellation);
        await using (var last = new Npgsql.NpgsqlCommand($"select coalesce(max(seq_id), 0) from {events}", connection, transaction))
            observer.Total = Math.Max(observer.Total, (long)(await last.ExecuteScalarAsync(cancellation))!);

        var waited = Stopwatch.StartNew();
        while (await ShadowProgressAsync(shadow, cancellation) < observer.Total)
        {
            if (waited.Elapsed > SwapTimeout)
                throw new TimeoutException($"The rebuilt '{Name}' did not reach event {observer.Total} within {SwapTimeout.TotalSeconds} s; " +
                                           "the live read model is unchanged.");
            await daemon.CatchUpAsync(cancellation);
        }

        await using (var swap = new Npgsql.NpgsqlCommand(
                         $"drop table {live.QualifiedName}; alter table {shadowSchema}.{live.Name} set schema {live.Schema}",
                         connection, transaction))
            await swap.ExecuteNonQueryAsync(cancellation);
        await transaction.CommitAsync(cancellation);
        observer.Report(observer.Total);
    }

    /// <summary>
    /// The last event of the store such that every event up to it is committed: an EXCLUSIVE lock on the events table
    /// waits for the appends in flight (a sequence is taken before its transaction commits), then is released at once.
    /// </summary>
    private async Task<long> CommittedCeilingAsync(CancellationToken cancellation)
    {
        await using var connection = _store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var events = $"{_store.Options.Events.DatabaseSchemaName}.mt_events";
        await using (var lockEvents = new Npgsql.NpgsqlCommand($"lock table {events} in exclusive mode", connection, transaction))
            await lockEvents.ExecuteNonQueryAsync(cancellation);
        long ceiling;
        await using (var last = new Npgsql.NpgsqlCommand($"select coalesce(max(seq_id), 0) from {events}", connection, transaction))
            ceiling = (long)(await last.ExecuteScalarAsync(cancellation))!;
        await transaction.CommitAsync(cancellation);
        return ceiling;
    }

    /// <summary>Green holds every event up to <paramref name="ceiling"/>: the shadow daemon's catch-up starts after it.</summary>
    private async Task SetShadowProgressAsync(long ceiling, CancellationToken cancellation)
    {
        await using var connection = _store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new Npgsql.NpgsqlCommand(
            $"insert into {_store.Options.Events.DatabaseSchemaName}.mt_event_progression (name, last_seq_id) values (@name, @ceiling) " +
            "on conflict (name) do update set last_seq_id = excluded.last_seq_id", connection);
        command.Parameters.AddWithValue("name", $"{ProjectionName}:All");
        command.Parameters.AddWithValue("ceiling", ceiling);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private async Task<long> ShadowProgressAsync(DocumentStore shadow, CancellationToken cancellation)
    {
        var states = await shadow.Advanced.AllProjectionProgress(token: cancellation);
        return states.FirstOrDefault(s => s.ShardName == $"{ProjectionName}:All")?.Sequence ?? 0;
    }

    private async Task<long> LastSequenceAsync(CancellationToken cancellation)
    {
        await using var connection = _store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new Npgsql.NpgsqlCommand(
            $"select coalesce(max(seq_id), 0) from {_store.Options.Events.DatabaseSchemaName}.mt_events", connection);
        return (long)(await command.ExecuteScalarAsync(cancellation))!;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellation)
    {
        await using var connection = _store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private static string ShadowSchemaFor(DbObjectName live)
    {
        var schema = $"{live.Schema}_next_{live.Name}";
        return schema.Length <= 63 ? schema : schema[..63];
    }

    internal static string KebabCase(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) text.Append('-');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }

    /// <summary>Wall-clock and process CPU time between one phase's end and the next.</summary>
    private sealed class PhaseClock
    {
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private TimeSpan _wallMark;
        private TimeSpan _cpuMark = Process.GetCurrentProcess().TotalProcessorTime;

        public List<RebuildPhase> Phases { get; } = [];

        public void End(string phase)
        {
            var (wall, cpu) = (_wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime);
            Phases.Add(new RebuildPhase(phase, wall - _wallMark, cpu - _cpuMark));
            (_wallMark, _cpuMark) = (wall, cpu);
        }
    }

    /// <summary>Turns the daemon's shard states into done/total events.</summary>
    private sealed class ProgressObserver(string shardPrefix, long total, IProgress<RebuildProgress> progress) : IObserver<ShardState>
    {
        private long _done;

        public long Total { get; set; } = total;

        public void Report(long done)
        {
            _done = Math.Max(_done, done);
            progress.Report(new RebuildProgress(_done, Math.Max(Total, _done)));
        }

        public void OnNext(ShardState value)
        {
            if (value.ShardName.StartsWith(shardPrefix, StringComparison.Ordinal)) Report(value.Sequence);
        }

        public void OnCompleted() { }

        public void OnError(Exception error) { }
    }
}

/// <summary>One phase of a rebuild: how long it took and how much CPU the whole process used meanwhile.</summary>
public sealed record RebuildPhase(string Name, TimeSpan Elapsed, TimeSpan ProcessCpu);
