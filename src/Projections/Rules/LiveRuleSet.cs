using EventSourcedJourneys.Domain.Rules;
using Marten.Events.Projections;

namespace EventSourcedJourneys.Projections.Rules;

/// <summary>A published rule as the engine sees it: the exact text of the live version, and since when it is live
/// (events that happened before <paramref name="PublishedAt"/> never start it).</summary>
public sealed record LiveRule(string Name, string Kind, int Version, string Text, string ContentHash, bool Paused, NodaTime.Instant PublishedAt);

/// <summary>
/// The workspace's published rules, one document per workspace. <see cref="Revision"/> grows with every change,
/// so every node can tell cheaply whether its compiled copy is current.
/// </summary>
public sealed record LiveRuleSet
{
    public const string DocumentId = "live";

    public string Id { get; init; } = DocumentId;
    public long Revision { get; init; }
    public Dictionary<string, LiveRule> Rules { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The live rules as one document, in name order; paused rules left out.</summary>
    public string ActiveText() => string.Join("\n\n",
        Rules.Values.Where(r => !r.Paused).OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => r.Text));

    internal LiveRuleSet With(string name, Func<LiveRule?, LiveRule?> change)
    {
        var rules = new Dictionary<string, LiveRule>(Rules, StringComparer.Ordinal);
        var changed = change(rules.GetValueOrDefault(name));
        if (changed is null) rules.Remove(name);
        else rules[name] = changed;
        return this with { Revision = Revision + 1, Rules = rules };
    }
}

public sealed partial class LiveRuleSetProjection : MultiStreamProjection<LiveRuleSet, string>
{
    public LiveRuleSetProjection()
    {
        Identity<RuleVersionPublished>(_ => LiveRuleSet.DocumentId);
        Identity<RulePaused>(_ => LiveRuleSet.DocumentId);
        Identity<RuleResumed>(_ => LiveRuleSet.DocumentId);
        Identity<RuleArchived>(_ => LiveRuleSet.DocumentId);
    }

    public static LiveRuleSet Apply(RuleVersionPublished e, LiveRuleSet set) =>
        set.With(e.Name, _ => new LiveRule(e.Name, e.Kind, e.Version, e.Text, e.ContentHash, Paused: false, e.PublishedAt));

    public static LiveRuleSet Apply(RulePaused e, LiveRuleSet set) => set.With(e.Name, r => r is null ? null : r with { Paused = true });

    public static LiveRuleSet Apply(RuleResumed e, LiveRuleSet set) => set.With(e.Name, r => r is null ? null : r with { Paused = false });

    public static LiveRuleSet Apply(RuleArchived e, LiveRuleSet set) => set.With(e.Name, _ => null);
}
