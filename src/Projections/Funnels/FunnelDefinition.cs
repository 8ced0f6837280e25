using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Compilation;
using NodaTime;

namespace EventSourcedJourneys.Projections.Funnels;

/// <summary>
/// One computed copy of a funnel's data, made with one published version of its definition. Rows of the chains table
/// carry the generation's id, so a new definition (or a rebuild) fills a new generation while reports keep reading
/// the complete one (blue/green).
/// </summary>
/// <param name="Text">The text it was compiled from: the funnel alone, or with the live rules it refers to.</param>
public sealed record FunnelGeneration(
    Guid Id, int Version, string ContentHash, string Text, Instant StartedAt, Instant? CompletedAt = null, long Done = 0, long Total = 0)
{
    public CompiledFunnel? Compile(string name)
    {
        var compiled = RuleCompiler.Compile(Text);
        return compiled.Document?.Funnels.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));
    }
}

/// <summary>
/// A published funnel's computed data, one document per funnel and workspace: <see cref="Active"/> is what reports
/// read; <see cref="Building"/>, while set, is being filled from history (and kept current by the live projection).
/// </summary>
public sealed record FunnelDefinition
{
    public string Id { get; init; } = "";
    public FunnelGeneration? Active { get; init; }
    public FunnelGeneration? Building { get; init; }

    /// <summary>The generations the live projection keeps current.</summary>
    public IEnumerable<FunnelGeneration> Open()
    {
        if (Active is not null) yield return Active;
        if (Building is not null) yield return Building;
    }
}
