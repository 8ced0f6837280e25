using Marten;

namespace EventSourcedJourneys.Projections.Rebuilds;

/// <summary>
/// The application's Marten configuration with its documents in another schema (its events stay where they are):
/// what a blue/green rebuild builds the next generation of a read model into.
/// </summary>
public delegate StoreOptions ShadowStoreOptions(string documentSchema);
