using System.Collections.Concurrent;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using Npgsql;

namespace EventSourcedJourneys.Projections.Rebuilds;

public enum RebuildState
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>Where one rebuild stands: <see cref="Done"/> of <see cref="Total"/> <see cref="Unit"/>.</summary>
public sealed record RebuildStatus(
    Guid Id,
    string Projection,
    RebuildState State,
    long Done,
    long Total,
    string Unit,
    Instant StartedAt,
    Instant? FinishedAt = null,
    int? Generation = null,
    string? Error = null)
{
    public double Percentage => State == RebuildState.Succeeded ? 100 : Total <= 0 ? 0 : Math.Round(100.0 * Math.Min(Done, Total) / Total, 1);

    /// <summary>Time left at the pace so far; unknown before the first progress.</summary>
    public Duration? Remaining(Instant now) =>
        State != RebuildState.Running || Done <= 0 || Total <= Done
            ? null
            : Duration.FromTicks((long)((now - StartedAt).TotalTicks / Done * (Total - Done)));
}

public enum RebuildOutcome
{
    Started,
    NotFound,
    AlreadyRunning,
}

public sealed record RebuildStart(RebuildOutcome Outcome, RebuildStatus? Status, Task<RebuildStatus>? Completion = null);

/// <summary>
/// Every read model that can be rebuilt — the inline Marten projections and every <see cref="IRebuildableProjection"/>
/// registered in DI (a DI registration wins over a Marten projection of the same name) — and their rebuilds: one at a
/// time per read model across every process on the database (a PostgreSQL advisory lock), in the background, with
/// progress, and the generation each completed rebuild produced.
/// </summary>
public sealed class ProjectionRebuilds(
    IEnumerable<IRebuildableProjection> registered,
    IDocumentStore store,
    ShadowStoreOptions shadowOptions,
    IClock clock,
    ILogger<ProjectionRebuilds> logger) : IAsyncDisposable
{
    private readonly Lazy<IReadOnlyList<IRebuildableProjection>> _all = new(() =>
    {
        var custom = registered.ToList();
        var names = custom.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return MartenReadModel.AllOf(store, shadowOptions).Where(m => !names.Contains(m.Name)).Cast<IRebuildableProjection>()
            .Concat(custom)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
    });

    private readonly ConcurrentDictionary<string, RebuildStatus> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, Task> _running = new();
    private readonly ConcurrentDictionary<string, Task<RebuildStatus>> _completions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();

    public IReadOnlyList<IRebuildableProjection> All => _all.Value;

    public IRebuildableProjection? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    /// <summary>The rebuild running now, or the last one this process ran.</summary>
    public RebuildStatus? Latest(string name) => _latest.GetValueOrDefault(name);

    /// <summary>Completes with the outcome of the read model's latest rebuild in this process (null if none started).</summary>
    public Task<RebuildStatus>? Completion(string name) => _completions.GetValueOrDefault(name);

    public async Task<IReadOnlyDictionary<string, ProjectionGeneration>> GenerationsAsync(CancellationToken cancellation = default)
    {
        await using var session = store.QuerySession();
        var generations = await session.Query<ProjectionGeneration>().ToListAsync(cancellation);
        return generations.ToDictionary(g => g.Id, StringComparer.Ordinal);
    }

    /// <summary>Starts rebuilding in the background, unless the read model is unknown or already being rebuilt.</summary>
    public async Task<RebuildStart> StartAsync(string name, CancellationToken cancellation = default)
    {
        var projection = Find(name);
        if (projection is null) return new RebuildStart(RebuildOutcome.NotFound, null);

        RebuildStatus? previous;
        lock (_gate)
        {
            if (_latest.TryGetValue(name, out previous) && previous.State == RebuildState.Running)
                return new RebuildStart(RebuildOutcome.AlreadyRunning, previous);
            _latest[name] = new RebuildStatus(Guid.CreateVersion7(), name, RebuildState.Running, 0, 0, "events", clock.GetCurrentInstant());
        }

        NpgsqlConnection? guard = null;
        try
        {
            guard = await TryLockAsync(name, cancellation);
        }
        finally
        {
            // Another process holds the read model's rebuild lock (or the database did not answer): this process keeps
            // showing its own last rebuild.
            if (guard is null)
            {
                lock (_gate)
                {
                    if (previous is null) _latest.TryRemove(name, out _);
                    else _latest[name] = previous;
                }
            }
        }
        if (guard is null) return new RebuildStart(RebuildOutcome.AlreadyRunning, null);

        var status = _latest[name];
        var completion = Task.Run(() => RunAsync(projection, status, guard), CancellationToken.None);
        _running[status.Id] = completion;
        _completions[name] = completion;
        _ = completion.ContinueWith(_ => _running.TryRemove(status.Id, out Task? _), TaskScheduler.Default);
        return new RebuildStart(RebuildOutcome.Started, status, completion);
    }

    private async Task<RebuildStatus> RunAsync(IRebuildableProjection projection, RebuildStatus started, NpgsqlConnection guard)
    {
        await using var _ = guard;
        var name = projection.Name;
        try
        {
            var progress = new Reporter(p => _latest.AddOrUpdate(name, started,
                (_, current) => current with { Done = p.Done, Total = p.Total, Unit = p.Unit }));
            await projection.RebuildAsync(progress, _stopping.Token);

            await using var session = store.LightweightSession();
            var previous = await session.LoadAsync<ProjectionGeneration>(name);
            var finished = clock.GetCurrentInstant();
            var current = _latest[name];
            var generation = new ProjectionGeneration(name, (previous?.Generation ?? 0) + 1, finished, current.Total, finished - started.StartedAt);
            session.Store(generation);
            await session.SaveChangesAsync();
            logger.LogInformation("Rebuilt {Projection}: generation {Generation}, {Events} {Unit}", name, generation.Generation, current.Total, current.Unit);
            return _latest[name] = current with
            {
                State = RebuildState.Succeeded, Done = current.Total, FinishedAt = finished, Generation = generation.Generation,
            };
        }
        catch (Exception e)
        {
            logger.LogError(e, "Rebuilding {Projection} failed; its current data is unchanged", name);
            var error = e is OperationCanceledException ? "The rebuild was cancelled (the server is stopping)." : e.Message;
            return _latest[name] = _latest[name] with { State = RebuildState.Failed, FinishedAt = clock.GetCurrentInstant(), Error = error };
        }
    }

    /// <summary>A session-level advisory lock held on its own connection for as long as the rebuild runs.</summary>
    private async Task<NpgsqlConnection?> TryLockAsync(string name, CancellationToken cancellation)
    {
        var connection = ((DocumentStore)store).Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", LockKey(name));
        if ((bool)(await command.ExecuteScalarAsync(cancellation))!) return connection;
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>FNV-1a of the name: stable across processes and runs (string.GetHashCode is not).</summary>
    private static long LockKey(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in "journeys-rebuild:" + name)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return unchecked((long)hash);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Rebuilds still running at shutdown were abandoned; the read models they were rebuilding are unchanged");
        }
        _stopping.Dispose();
    }

    /// <summary>Reports synchronously, in order (Progress&lt;T&gt; posts to the thread pool and may reorder).</summary>
    private sealed class Reporter(Action<RebuildProgress> report) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => report(value);
    }
}

public static class ProjectionRebuildsRegistration
{
    public static IServiceCollection AddProjectionRebuilds(this IServiceCollection services) =>
        services.AddSingleton<ProjectionRebuilds>();
}
