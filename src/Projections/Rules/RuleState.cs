using EventSourcedJourneys.Domain.Rules;
using NodaTime;

namespace EventSourcedJourneys.Projections.Rules;

public enum RuleStatus
{
    /// <summary>Saved, never published (or revived after archiving).</summary>
    Draft,
    Live,
    Paused,
    Archived,
}

public sealed record RuleVersion(int Number, string Text, string ContentHash, Instant SavedAt);

/// <summary>One rule with every version it ever had; the stream's snapshot, updated in the same transaction.</summary>
public sealed record RuleState(
    Guid Id,
    string Name,
    string Kind,
    RuleStatus Status,
    IReadOnlyList<RuleVersion> Versions,
    int? PublishedVersion,
    Instant UpdatedAt)
{
    public int LatestVersion => Versions.Count;

    public RuleVersion? Version(int number) => number >= 1 && number <= Versions.Count ? Versions[number - 1] : null;

    public static RuleState Create(RuleVersionSaved e) =>
        new(e.RuleId, e.Name, e.Kind, RuleStatus.Draft, [new RuleVersion(e.Version, e.Text, e.ContentHash, e.SavedAt)], null, e.SavedAt);

    public static RuleState Apply(RuleVersionSaved e, RuleState rule) => rule with
    {
        Kind = e.Kind,
        Versions = [.. rule.Versions, new RuleVersion(e.Version, e.Text, e.ContentHash, e.SavedAt)],
        Status = rule.Status == RuleStatus.Archived ? RuleStatus.Draft : rule.Status,
        PublishedVersion = rule.Status == RuleStatus.Archived ? null : rule.PublishedVersion,
        UpdatedAt = e.SavedAt,
    };

    public static RuleState Apply(RuleVersionPublished e, RuleState rule) =>
        rule with { Status = RuleStatus.Live, PublishedVersion = e.Version, UpdatedAt = e.PublishedAt };

    public static RuleState Apply(RulePaused e, RuleState rule) => rule with { Status = RuleStatus.Paused, UpdatedAt = e.PausedAt };

    public static RuleState Apply(RuleResumed e, RuleState rule) => rule with { Status = RuleStatus.Live, UpdatedAt = e.ResumedAt };

    public static RuleState Apply(RuleArchived e, RuleState rule) =>
        rule with { Status = RuleStatus.Archived, PublishedVersion = null, UpdatedAt = e.ArchivedAt };
}
