namespace EventSourcedJourneys.Projections.Rebuilds;

/// <summary>
/// A read model that can be rebuilt from the event store at any time (blue/green): while a rebuild runs, reads keep
/// being served from the current generation, and the rebuilt one replaces it atomically only once complete.
/// Every such read model is registered in DI as this interface, so the admin API and the <c>projections</c> command
/// line can list and rebuild all of them by <see cref="Name"/>.
/// </summary>
public interface IRebuildableProjection
{
    /// <summary>The stable, kebab-case name used in <c>POST /admin/projections/{name}/rebuild</c>.</summary>
    string Name { get; }

    /// <summary>Rebuilds every workspace's data from the events, reporting progress as it goes.</summary>
    Task RebuildAsync(IProgress<RebuildProgress> progress, CancellationToken cancellation);
}

/// <summary>How far a rebuild is: <paramref name="Done"/> of <paramref name="Total"/> units (events, or contacts for
/// per-contact read models), so callers can compute a percentage and an ETA.</summary>
public sealed record RebuildProgress(long Done, long Total, string Unit = "events");
