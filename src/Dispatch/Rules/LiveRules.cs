using System.Collections.Concurrent;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Projections.Rules;
using Marten;

namespace EventSourcedJourneys.Dispatch.Rules;

/// <summary>A consistent, compiled snapshot of a workspace's published rules.</summary>
public sealed record LiveRuleSnapshot(long Revision, CompiledDocument Document, IReadOnlyDictionary<string, LiveRule> Rules,
    string Text = "")
{
    public static readonly LiveRuleSnapshot Empty = new(0, CompiledDocument.Empty, new Dictionary<string, LiveRule>());
}

/// <summary>
/// What the engine evaluates: the published rules of a workspace, compiled once per revision of its
/// <see cref="LiveRuleSet"/>. Every call reads the set's document, so a rule published on any node takes effect
/// here for the next event, without a restart.
/// </summary>
public sealed class LiveRules(IDocumentStore store)
{
    private readonly ConcurrentDictionary<string, LiveRuleSnapshot> _compiled = new(StringComparer.Ordinal);

    public async Task<LiveRuleSnapshot> ForWorkspaceAsync(string workspace, CancellationToken cancellation = default)
    {
        await using var session = store.QuerySession(workspace);
        var set = await session.LoadAsync<LiveRuleSet>(LiveRuleSet.DocumentId, cancellation);
        if (set is null) return LiveRuleSnapshot.Empty;
        // The revision alone is not an identity: it restarts when the set is rebuilt from the events (or the store is
        // reset), so a cached copy is reused only when its text is the live text too.
        var text = set.ActiveText();
        if (_compiled.TryGetValue(workspace, out var cached) && cached.Revision == set.Revision
            && string.Equals(cached.Text, text, StringComparison.Ordinal))
            return cached with { Rules = set.Rules };

        var compiled = RuleCompiler.Compile(text);
        // Publishing refuses any change that would leave the live set uncompilable, so this holds by construction;
        // a set whose rules are all paused or archived is simply empty.
        var document = string.IsNullOrWhiteSpace(text) ? CompiledDocument.Empty : compiled.Document
            ?? throw new InvalidOperationException(
                $"The live rules of workspace '{workspace}' (revision {set.Revision}) do not compile: " +
                string.Join("; ", compiled.Diagnostics));
        var snapshot = new LiveRuleSnapshot(set.Revision, document, set.Rules, text);
        _compiled[workspace] = snapshot;
        return snapshot;
    }
}
