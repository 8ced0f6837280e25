using NodaTime;

namespace EventSourcedJourneys.Domain.Rules;

/// <summary>Something that happened to one named rule; appended to the rule's own stream.</summary>
public interface IRuleEvent
{
    Guid RuleId { get; }
    string Name { get; }
}

/// <summary>A new draft version of a rule was saved: its exact text, immutable from now on.</summary>
/// <param name="Kind">segment, trigger, policy or funnel.</param>
/// <param name="ContentHash">SHA-256 of the text (hex), so that an auditor can match a decision to its text.</param>
public sealed record RuleVersionSaved(
    Guid RuleId, string Name, string Kind, int Version, string Text, string ContentHash, Instant SavedAt) : IRuleEvent;

/// <summary>A version became the live one; it carries its text so the live rule set is self-contained.</summary>
public sealed record RuleVersionPublished(
    Guid RuleId, string Name, string Kind, int Version, string Text, string ContentHash, Instant PublishedAt) : IRuleEvent;

public sealed record RulePaused(Guid RuleId, string Name, Instant PausedAt) : IRuleEvent;

public sealed record RuleResumed(Guid RuleId, string Name, Instant ResumedAt) : IRuleEvent;

public sealed record RuleArchived(Guid RuleId, string Name, Instant ArchivedAt) : IRuleEvent;

public static class RuleIds
{
    private static readonly Guid Namespace = Guid.Parse("6f1c2a7e-52f1-4a53-9a55-0c1f3c6e2b71");

    /// <summary>The stream id of the rule with this name (streams are per workspace, so names may repeat across them).</summary>
    public static Guid For(string name) => DeterministicGuid.Create(Namespace, name);
}
