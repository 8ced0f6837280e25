using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Audit;

/// <summary>A rule version a decision ran under, with its exact text and whether the text still hashes to the
/// recorded SHA-256.</summary>
public sealed record RuleVersionTrace(string Name, int Version, string ContentHash, string? Text, bool TextMatchesHash);

/// <summary>One value where the replay and the record disagree (dotted path into the decision event, camel-case).</summary>
public sealed record FieldDifference(string Field, string? Recorded, string? Replayed);

/// <summary>The decision recomputed from the events stored before it (<paramref name="AsOfSequence"/>, exclusive) at
/// its recorded instant, and whether that reproduces what was recorded.</summary>
public sealed record ReplayResult(
    bool Reproduced,
    long AsOfSequence,
    Instant At,
    IReadOnlyList<string> Replayed,
    IReadOnlyList<FieldDifference> Differences,
    string? Note = null);

/// <summary>A decision event as stored: its type (camel-case), position and data.</summary>
public sealed record RecordedDecision(string Type, long Sequence, Guid EventId, object Data);

/// <summary>One exception event the trigger waits for that happened between the entry and the decision.</summary>
public sealed record ExceptionCandidate(EventRef Event, bool Cancels);

/// <summary>The exception events (<c>cancel if</c>) looked at: those named, in (<paramref name="From"/>, <paramref name="To"/>].</summary>
public sealed record ExceptionCheck(IReadOnlyList<string> CancelIf, Instant From, Instant To, IReadOnlyList<ExceptionCandidate> Candidates);

public sealed record AudienceCheck(IReadOnlyList<string> Segments, bool Included);

/// <summary>The send window as computed: which one applied (the trigger's own or the workspace's quiet hours), in which
/// zone, the local time at the decision and the next opening.</summary>
public sealed record SendWindowCheck(string Window, string Source, string ZoneReference, string Zone, LocalDateTime LocalTime, bool Open,
    Instant NextOpening);

/// <summary>A frequency cap at the decision instant: marketing messages received in (<paramref name="Since"/>, now].</summary>
public sealed record CapCheck(string Cap, Instant Since, int Received, bool Reached);

public sealed record ReachCheck(Channel Channel, bool HasAddress, bool Unsubscribed);

/// <summary>The trigger's control group: the contact's bucket (0-9999, docs/semantics.md) and whether it is held out.</summary>
public sealed record ControlGroupCheck(string Share, int Bucket, int HeldOutBelow, bool InControlGroup);

/// <summary>The checks of a due-time decision (docs/semantics.md, "When the wait is over"), with the values they saw.</summary>
public sealed record DueChecks(
    bool RuleLive,
    ExceptionCheck? ExceptionEvents,
    AudienceCheck? Audience,
    SendWindowCheck? SendWindow,
    IReadOnlyList<CapCheck> FrequencyCaps,
    ReachCheck Reach,
    bool Transactional,
    ControlGroupCheck? ControlGroup = null);

/// <summary>
/// One decision about a message: <c>entry</c> (TriggerMatched with the scheduling or re-eligibility suppression),
/// <c>due</c> (rescheduled, cancelled, suppressed or withheld for the control group when the wait was over), <c>cleared</c>
/// (every check passed; the first delivery attempt followed), <c>scheduledByApi</c>, <c>conversion</c>, <c>controlGroupConversion</c>.
/// </summary>
public sealed record DecisionTrace(
    string Kind,
    long Sequence,
    Instant DecidedAt,
    string Account,
    IReadOnlyList<RecordedDecision> Recorded,
    RuleVersionTrace? Rule,
    ReplayResult? Replay,
    DueChecks? Checks);

public sealed record DeliveryAttemptTrace(int Attempt, string Outcome, Instant At, string? ProviderMessageId, string? Reason, bool? Permanent);

public sealed record TriggerTrace(EventRef Event, Instant MatchedAt, IReadOnlyDictionary<string, string> Facts);

/// <summary>Why a message was — or was not — sent: the structured trace and the plain-language account.</summary>
/// <param name="Outcome">scheduled, rescheduled, cancelled, suppressed, withheld (control group), sent, failed.</param>
/// <param name="Reproduced">Every replayable decision was reproduced and every rule text matched its hash.</param>
public sealed record MessageExplanation(
    Guid MessageId,
    Guid ContactId,
    string Outcome,
    Channel? Channel,
    string? Template,
    RuleVersionTrace? Rule,
    TriggerTrace? Trigger,
    IReadOnlyList<DecisionTrace> Decisions,
    IReadOnlyList<DeliveryAttemptTrace> Attempts,
    bool Reproduced,
    IReadOnlyList<string> Account,
    IReadOnlyList<string> Simplifications);
