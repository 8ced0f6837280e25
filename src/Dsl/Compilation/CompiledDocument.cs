namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>Everything one rules document defines, compiled, with triggers indexed by the events that start them.</summary>
public sealed class CompiledDocument
{
    readonly Dictionary<string, CompiledSegment> _segments;
    readonly Dictionary<string, CompiledTrigger> _triggers;
    readonly Dictionary<string, CompiledTrigger[]> _triggersByEvent;

    internal CompiledDocument(
        IReadOnlyList<CompiledSegment> segments,
        IReadOnlyList<CompiledTrigger> triggers,
        IReadOnlyList<CompiledFunnel> funnels,
        WorkspacePolicies policies)
    {
        Segments = segments;
        Triggers = triggers;
        Funnels = funnels;
        Policies = policies;
        _segments = segments.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _triggers = triggers.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _triggersByEvent = triggers
            .SelectMany(t => t.EventNames.Distinct(StringComparer.Ordinal).Select(e => (Event: e, Trigger: t)))
            .GroupBy(p => p.Event, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.Trigger).ToArray(), StringComparer.Ordinal);
        DateTriggers = triggers.Where(t => t.OnDate is not null).ToArray();
    }

    /// <summary>No rules at all: what a workspace that has published nothing (or paused everything) runs.</summary>
    public static CompiledDocument Empty { get; } = new([], [], [], WorkspacePolicies.None);

    public IReadOnlyList<CompiledSegment> Segments { get; }

    public IReadOnlyList<CompiledTrigger> Triggers { get; }

    public IReadOnlyList<CompiledFunnel> Funnels { get; }

    public WorkspacePolicies Policies { get; }

    /// <summary>Triggers started by dates rather than events.</summary>
    public IReadOnlyList<CompiledTrigger> DateTriggers { get; }

    public CompiledSegment? FindSegment(string name) => _segments.GetValueOrDefault(name);

    public CompiledTrigger? FindTrigger(string name) => _triggers.GetValueOrDefault(name);

    /// <summary>Triggers that an event with this name may start (their <c>where</c> filters still apply).</summary>
    public IReadOnlyList<CompiledTrigger> TriggersOnEvent(string eventName) =>
        _triggersByEvent.TryGetValue(eventName, out var triggers) ? triggers : [];
}
