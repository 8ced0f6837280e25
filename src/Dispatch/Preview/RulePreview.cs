using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Preview;

public enum PreviewStatus
{
    Queued,
    Running,
    Completed,
    Failed,
}

/// <summary>A trigger of the draft as the preview ran it: its name and the SHA-256 of its text.</summary>
public sealed record PreviewedTrigger(string Name, string ContentHash);

/// <summary>A saved rule of the workspace that the draft was compiled with (its latest version, as when saving).</summary>
public sealed record PreviewContextRule(string Name, string Kind, int Version);

/// <summary>Contacts with events in the range, and how many of them the preview has replayed so far.</summary>
public sealed record PreviewProgress(int ContactsTotal, int ContactsDone)
{
    public int Percent => ContactsTotal == 0 ? 100 : (int)(100L * ContactsDone / ContactsTotal);
}

/// <summary>How many entries and messages, and what became of the messages. <see cref="Suppressed"/> by reason
/// (<c>frequencyCap</c>, <c>audience</c>, <c>consent</c>, <c>missingAddress</c>, <c>reEligibility</c>, <c>dateChanged</c>).</summary>
/// <param name="Entries">Times contacts entered a trigger (each a <c>TriggerMatched</c> the live engine would record).</param>
/// <param name="Scheduled">Messages scheduled (entries not suppressed at once by <c>at most</c>).</param>
/// <param name="Rescheduled">Messages held at least once to a send window or outside quiet hours (whatever became of them).</param>
/// <param name="Pending">Messages still waiting when the preview ran (due after that moment).</param>
/// <param name="Withheld">Messages that passed every check but were held out: the contact is in the trigger's control group.</param>
public sealed record PreviewCounts(
    int Entries,
    int Scheduled,
    int Sent,
    int Cancelled,
    int SuppressedTotal,
    IReadOnlyDictionary<string, int> Suppressed,
    int Rescheduled,
    int Pending,
    int Withheld);

/// <summary>A contact shown as an example of an outcome: its id and the identities the app knows it by.</summary>
public sealed record PreviewSample(Guid ContactId, IReadOnlyList<string> UserIds, IReadOnlyList<string> AnonymousIds);

/// <summary>
/// The outcome of replaying a range: contacts replayed, triggered (entered at least once) and reached (at least one
/// message sent); message counts in total and per trigger; up to <see cref="PreviewTally.SampleSize"/> contacts per
/// outcome (<c>triggered</c>, <c>sent</c>, <c>cancelled</c>, <c>rescheduled</c>, <c>pending</c>, <c>suppressed.&lt;reason&gt;</c>).
/// </summary>
public sealed record PreviewResult(
    int ContactsEvaluated,
    int ContactsTriggered,
    int ContactsReached,
    PreviewCounts Messages,
    IReadOnlyDictionary<string, PreviewCounts> ByTrigger,
    IReadOnlyDictionary<string, IReadOnlyList<PreviewSample>> Samples);

/// <summary>
/// A preview on history, per workspace: the draft, the range, where the run stands and, once completed, the result.
/// Written only by the preview itself; nothing of a preview reaches the contacts' streams.
/// </summary>
public sealed record RulePreview
{
    public Guid Id { get; init; }
    public PreviewStatus Status { get; init; }
    public Instant RequestedAt { get; init; }
    public Instant? StartedAt { get; init; }
    public Instant? CompletedAt { get; init; }
    public Instant From { get; init; }
    public Instant To { get; init; }

    /// <summary>Messages due after this instant (when the run started) are reported as pending.</summary>
    public Instant? Horizon { get; init; }

    /// <summary>The draft as posted.</summary>
    public string Text { get; init; } = "";

    /// <summary>The draft followed by the workspace rules it was compiled with: what the run compiles.</summary>
    public string CompiledText { get; init; } = "";

    public IReadOnlyList<PreviewedTrigger> Triggers { get; init; } = [];
    public IReadOnlyList<PreviewContextRule> Context { get; init; } = [];
    public PreviewProgress Progress { get; init; } = new(0, 0);
    public PreviewResult? Result { get; init; }
    public string? Error { get; init; }
}

/// <summary>Starts (or, after a restart, restarts) the run of a preview; durable.</summary>
public sealed record RunRulePreview(string Workspace, Guid PreviewId);
