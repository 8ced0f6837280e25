using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Domain.Segments;
using EventSourcedJourneys.Projections.Rules;

namespace EventSourcedJourneys.Dispatch.Segments;

/// <summary>The published (not paused) segments of a workspace with the definition each is evaluated under.</summary>
public sealed record LiveSegmentSet(IReadOnlyList<LiveSegment> Segments, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ReferencedVersions)
{
    public LiveSegment? Find(string name) => Segments.FirstOrDefault(s => s.Name == name);
}

public static class LiveSegments
{
    private static readonly ConditionalWeakTable<LiveRuleSnapshot, LiveSegmentSet> Cache = new();

    /// <summary>
    /// Each segment's definition: its live version, and a hash over its own text hash and those of every segment it
    /// refers to (directly or not), with their versions — so publishing a referenced segment changes the hash of the
    /// segments built on it, and they become stale.
    /// </summary>
    public static LiveSegmentSet Of(LiveRuleSnapshot rules) => Cache.GetValue(rules, Build);

    private static LiveSegmentSet Build(LiveRuleSnapshot rules)
    {
        var segments = new List<LiveSegment>();
        var references = new Dictionary<string, IReadOnlyDictionary<string, int>>(StringComparer.Ordinal);
        foreach (var compiled in rules.Document.Segments)
        {
            if (!rules.Rules.TryGetValue(compiled.Name, out var own)) continue;
            var referenced = Referenced(rules, compiled.Name);
            var parts = new[] { own }.Concat(referenced.Select(n => rules.Rules[n])).Select(Line);
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts)))).ToLowerInvariant();
            segments.Add(new LiveSegment(new SegmentDefinition(compiled.Name, own.Version, hash), compiled));
            references[compiled.Name] = referenced.ToDictionary(n => n, n => rules.Rules[n].Version, StringComparer.Ordinal);
        }
        return new LiveSegmentSet(segments, references);
    }

    private static string Line(LiveRule rule) => $"{rule.Name}:{rule.Version}:{rule.ContentHash}";

    /// <summary>Every segment reachable through references, in name order.</summary>
    private static IReadOnlyList<string> Referenced(LiveRuleSnapshot rules, string name)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push(name);
        while (pending.Count > 0)
        {
            var segment = rules.Document.FindSegment(pending.Pop());
            if (segment is null) continue;
            foreach (var reference in segment.ReferencedSegments)
            {
                if (reference != name && rules.Rules.ContainsKey(reference) && seen.Add(reference)) pending.Push(reference);
            }
        }
        return [.. seen];
    }
}
