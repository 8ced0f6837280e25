using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Projections.Rules;
using NodaTime;
using NodaTime.Text;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;

namespace EventSourcedJourneys.Dispatch.Audit;

/// <summary>
/// Explains a message by replaying, not by recollection: every decision about it is recomputed by the engine's own pure
/// functions (<see cref="TriggerDecisions.OnEvent"/>, <see cref="DateTriggerDecisions.OnTraitsChanged"/>,
/// <see cref="DueDecisions.OnDue"/>) on the facts rebuilt from the events stored before the decision, through the rule
/// versions live then, at the recorded instant — and compared with what was recorded.
/// </summary>
public static class DecisionReplay
{
    /// <summary>What the replay takes from the present rather than from the log (docs/audit.md).</summary>
    public static readonly IReadOnlyList<string> Simplifications =
    [
        "The workspace's time zone and webhook endpoint are today's settings, not those at the decision instant.",
        "A due-time clearance (every check passed) is not itself recorded; it is replayed at the instant and log position of the first delivery attempt that followed it.",
        "The facts are those stored before the decision event; an event stored concurrently with the decision (by another writer) counts as seen.",
        "Delivery attempts and conversions are reported as recorded, not replayed (they depend on the providers' answers).",
    ];

    private static readonly JsonSerializerOptions Json = JourneysJson.Create();

    public static MessageExplanation? Explain(AuditTrail trail, Guid messageId, string workspace, DateTimeZone workspaceZone, string? webhookUrl)
    {
        var events = trail.Decisions.Where(e => ((IMessageEvent)e.Data).MessageId == messageId).ToList();
        if (events.Count == 0) return null;

        var decisions = new List<DecisionTrace>();
        var attempts = new List<DeliveryAttemptTrace>();
        MessageScheduled? scheduled = null;
        TriggerMatched? matched = null;
        Instant? dueAt = null;
        var outcome = "scheduled";
        var cleared = false;

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            switch (e.Data)
            {
                case TriggerMatched tm:
                {
                    matched = tm;
                    var group = new List<LoggedEvent> { e };
                    if (i + 1 < events.Count && events[i + 1].Data is MessageScheduled or MessageSuppressed { Reason: SuppressionReason.ReEligibility })
                        group.Add(events[++i]);
                    if (group[^1].Data is MessageScheduled s)
                    {
                        scheduled = s;
                        dueAt = s.DueAt;
                    }
                    else if (group.Count > 1) outcome = "suppressed";
                    decisions.Add(ReplayEntry(trail, tm, group, workspaceZone));
                    break;
                }
                case MessageScheduled s:
                    scheduled = s;
                    dueAt = s.DueAt;
                    decisions.Add(new DecisionTrace("scheduledByApi", e.Sequence, s.ScheduledAt,
                        $"At {s.ScheduledAt}, the message was scheduled through the API (no trigger) for {s.DueAt}.",
                        [Recorded(e)], null, null, null));
                    break;
                case MessageRescheduled r when scheduled is not null:
                    decisions.Add(ReplayDue(trail, e, r.DecidedAt, scheduled with { DueAt = dueAt ?? scheduled.DueAt }, workspace, workspaceZone, webhookUrl));
                    dueAt = r.To;
                    outcome = "rescheduled";
                    break;
                case MessageCancelled c when scheduled is not null:
                    decisions.Add(ReplayDue(trail, e, c.DecidedAt, scheduled with { DueAt = dueAt ?? scheduled.DueAt }, workspace, workspaceZone, webhookUrl));
                    outcome = "cancelled";
                    break;
                case MessageSuppressed { Reason: not SuppressionReason.Rendering } s when scheduled is not null:
                    decisions.Add(ReplayDue(trail, e, s.DecidedAt, scheduled with { DueAt = dueAt ?? scheduled.DueAt }, workspace, workspaceZone, webhookUrl));
                    outcome = "suppressed";
                    break;
                case MessageWithheld w when scheduled is not null:
                    decisions.Add(ReplayDue(trail, e, w.DecidedAt, scheduled with { DueAt = dueAt ?? scheduled.DueAt }, workspace, workspaceZone, webhookUrl));
                    outcome = "withheld";
                    break;
                case MessageSuppressed s:
                    decisions.Add(new DecisionTrace("suppressed", e.Sequence, s.DecidedAt, $"At {s.DecidedAt}: {s.Detail}", [Recorded(e)], null, null, null));
                    outcome = "suppressed";
                    break;
                case InboxMessageDelivered or MessageSent or MessageFailed when !cleared && scheduled is not null:
                    cleared = true;
                    decisions.Add(ReplayDue(trail, e, AttemptInstant(e.Data), scheduled with { DueAt = dueAt ?? scheduled.DueAt }, workspace,
                        workspaceZone, webhookUrl, clearance: events.Skip(i).Where(a => a.Data is InboxMessageDelivered or MessageSent or MessageFailed).ToList()));
                    i--; // the attempt itself is listed below
                    break;
                case MessageSent sent:
                    attempts.Add(new DeliveryAttemptTrace(sent.Attempt, "sent", sent.SentAt, sent.ProviderMessageId, null, null));
                    outcome = "sent";
                    break;
                case MessageFailed failed:
                    attempts.Add(new DeliveryAttemptTrace(failed.Attempt, "failed", failed.FailedAt, null, failed.Reason, failed.Permanent));
                    if (failed.Permanent) outcome = "failed";
                    break;
                case ConversionAttributed conversion:
                    decisions.Add(new DecisionTrace("conversion", e.Sequence, conversion.DecidedAt,
                        $"At {conversion.DecidedAt}, the goal event \"{conversion.ConversionEvent.Name}\" (sequence {conversion.ConversionEvent.Sequence}, " +
                        $"at {conversion.ConversionEvent.OccurredAt}) was credited to this message as a conversion.",
                        [Recorded(e)], null, null, null));
                    break;
                case ControlGroupConverted conversion:
                    decisions.Add(new DecisionTrace("controlGroupConversion", e.Sequence, conversion.DecidedAt,
                        $"At {conversion.DecidedAt}, the goal event \"{conversion.ConversionEvent.Name}\" (sequence {conversion.ConversionEvent.Sequence}, " +
                        $"at {conversion.ConversionEvent.OccurredAt}) followed this withheld message within the goal's window: a conversion of the " +
                        "control group, counted for the uplift and credited to no message.",
                        [Recorded(e)], null, null, null));
                    break;
            }
        }

        var rule = scheduled?.Rule ?? matched?.Rule;
        var ruleTrace = rule is null ? null : RuleTrace(trail, rule);
        var reproduced = decisions.All(d => d.Replay is null || d.Replay.Reproduced) && (ruleTrace?.TextMatchesHash ?? true);
        var account = decisions.Select(d => d.Account).ToList();
        foreach (var attempt in attempts)
        {
            account.Add(attempt.Outcome == "sent"
                ? $"Attempt {attempt.Attempt} at {attempt.At}: accepted by the provider (id {attempt.ProviderMessageId})."
                : $"Attempt {attempt.Attempt} at {attempt.At}: failed ({attempt.Reason}){(attempt.Permanent == true ? ", not retried" : ", retried later")}.");
        }
        account.Add(reproduced
            ? "Replaying the stored events through the recorded rule versions reproduces every decision above."
            : "Replaying the stored events does NOT reproduce every decision above: see the differences in the decisions' replay.");

        return new MessageExplanation(messageId, events[0].StreamId, outcome, scheduled?.Channel, scheduled?.Template, ruleTrace,
            matched is null ? null : new TriggerTrace(matched.TriggeringEvent, matched.MatchedAt, matched.Facts),
            decisions, attempts, reproduced, account, Simplifications);
    }

    private static DecisionTrace ReplayEntry(AuditTrail trail, TriggerMatched tm, IReadOnlyList<LoggedEvent> stored, DateTimeZone workspaceZone)
    {
        var first = stored[0];
        var differences = new List<FieldDifference>();
        var (document, live, note) = Compile(trail, first.Sequence, tm.Rule, differences);
        var ruleTrace = RuleTrace(trail, tm.Rule);
        var recorded = stored.Select(Recorded).ToList();
        var account = new StringBuilder(
            $"At {tm.MatchedAt}, the event \"{tm.TriggeringEvent.Name}\" (id {tm.TriggeringEvent.EventId}, sequence {tm.TriggeringEvent.Sequence}, " +
            $"happened at {tm.TriggeringEvent.OccurredAt}) started trigger '{tm.Rule.Name}' version {tm.Rule.Version} (SHA-256 {tm.Rule.ContentHash}).");
        var facts = tm.Facts.Where(f => f.Key.StartsWith("properties.", StringComparison.Ordinal) || f.Key is "date" or "occurrence" or "zone")
            .Select(f => $"{f.Key} = {f.Value}").ToList();
        if (facts.Count > 0) account.Append($" It saw {string.Join(", ", facts)}.");
        account.Append(stored[^1].Data switch
        {
            MessageScheduled s => $" The message was scheduled for {s.DueAt}.",
            MessageSuppressed s => $" It was not scheduled: {s.Detail}",
            _ => "",
        });

        var trigger = document is not null && live.Rules.TryGetValue(tm.Rule.Name, out var liveRule) && !liveRule.Paused
            ? document.FindTrigger(tm.Rule.Name)
            : null;
        if (trigger is null)
        {
            var why = note ?? $"Trigger '{tm.Rule.Name}' was not live at sequence {first.Sequence} by the rules' stored events.";
            var failed = new ReplayResult(false, first.Sequence, tm.MatchedAt, [], differences, why);
            return new DecisionTrace("entry", first.Sequence, tm.MatchedAt, account + " " + why, recorded, ruleTrace, failed, null);
        }

        var facts2 = trail.FactsBefore(first.StreamId, first.Sequence);
        var history = trail.HistoryBefore(first.StreamId, first.Sequence);
        IReadOnlyList<IMessageEvent> replayed;
        if (trigger.OnDate is { } schedule)
        {
            var zone = DateTriggerDecisions.ZoneFor(schedule, facts2.TimeZone ?? workspaceZone, workspaceZone);
            var change = new ContactEvent(tm.TriggeringEvent, new RecordedEvent(tm.TriggeringEvent.Name, tm.TriggeringEvent.OccurredAt));
            replayed = DateTriggerDecisions.OnTraitsChanged(trigger, tm.Rule, first.StreamId, change, facts2.Snapshot, zone, _ => false, tm.MatchedAt)
                .Where(e => e.MessageId == tm.MessageId).ToList();
        }
        else if (facts2.Events.FirstOrDefault(e => e.Ref.EventId == tm.TriggeringEvent.EventId) is { } candidate)
        {
            replayed = TriggerDecisions.OnEvent(trigger, tm.Rule, live.Rules[tm.Rule.Name].PublishedAt, first.StreamId, candidate, facts2.Snapshot,
                history, workspaceZone, TriggerEngine.MessageIdFor(tm.Rule, tm.TriggeringEvent.EventId), tm.MatchedAt);
        }
        else
        {
            differences.Add(new FieldDifference("triggeringEvent", tm.TriggeringEvent.EventId.ToString(), "not among the contact's stored events"));
            replayed = [];
        }

        Compare(stored.Select(e => e.Data).ToList(), replayed.Cast<object>().ToList(), differences);
        var replay = new ReplayResult(differences.Count == 0, first.Sequence, tm.MatchedAt, replayed.Select(TypeName).ToList(), differences, note);
        account.Append(' ').Append(Verdict(replay));
        return new DecisionTrace("entry", first.Sequence, tm.MatchedAt, account.ToString(), recorded, ruleTrace, replay, null);
    }

    private static DecisionTrace ReplayDue(AuditTrail trail, LoggedEvent decision, Instant now, MessageScheduled message, string workspace,
        DateTimeZone workspaceZone, string? webhookUrl, IReadOnlyList<LoggedEvent>? clearance = null)
    {
        var differences = new List<FieldDifference>();
        var (document, live, note) = Compile(trail, decision.Sequence, null, differences);
        var liveRule = message.Rule?.Name is { } name && document is not null ? live.Rules.GetValueOrDefault(name) : null;
        // The version live then (paused or not) is the one the decision names; the trigger's checks run only if it is not paused.
        var decidedUnder = liveRule is null ? null : new RuleVersionRef(liveRule.Name, liveRule.Version, liveRule.ContentHash);
        var trigger = liveRule is { Paused: false } ? document!.FindTrigger(liveRule.Name) : null;
        var ruleUsed = trigger is null || decidedUnder is null ? null : RuleTrace(trail, decidedUnder);
        var policies = document?.Policies ?? WorkspacePolicies.None;

        var facts = trail.FactsBefore(decision.StreamId, decision.Sequence);
        var history = trail.HistoryBefore(decision.StreamId, decision.Sequence);
        var reach = message.Channel == Channel.Webhook && webhookUrl is not null
            ? facts.Reach with { Addresses = new Dictionary<Channel, string>(facts.Reach.Addresses) { [Channel.Webhook] = webhookUrl } }
            : facts.Reach;
        var contactZone = facts.TimeZone ?? workspaceZone;
        var entry = message.EntryAt ?? message.ScheduledAt;

        var outcome = DueDecisions.OnDue(new PendingMessage(message, entry), trigger, decidedUnder, policies, facts.Snapshot, facts.Events, history, reach,
            contactZone, workspaceZone, workspace, now);
        var checks = Checks(message, trigger, policies, facts, history, reach, contactZone, workspaceZone, workspace, entry, now);

        IReadOnlyList<string> replayedTypes;
        if (clearance is not null)
        {
            replayedTypes = outcome is ClearedToSend ? ["clearedToSend"] : ((NotSentNow)outcome).Events.Select(TypeName).ToList();
            if (outcome is NotSentNow notSent)
                differences.Add(new FieldDifference("outcome", "clearedToSend", string.Join(",", notSent.Events.Select(TypeName))));
            else if (outcome is ClearedToSend { Channel: var channel } && channel != message.Channel)
                differences.Add(new FieldDifference("channel", message.Channel.Name(), channel.Name()));
            // Every delivery attempt names the version the message was cleared under and its triggering event.
            var expected = Flatten(new DecisionNames(decidedUnder, message.TriggeringEvent));
            foreach (var attempt in clearance)
            {
                if (attempt.Data is not IDecisionRecord record || IsUnnamed(record)) continue;
                var recorded = Flatten(new DecisionNames(record.DecidedUnder, record.TriggeringEvent));
                foreach (var key in recorded.Keys.Union(expected.Keys).OrderBy(k => k, StringComparer.Ordinal))
                {
                    var (a, b) = (recorded.GetValueOrDefault(key), expected.GetValueOrDefault(key));
                    if (a != b) differences.Add(new FieldDifference($"{TypeName(attempt.Data)}[{attempt.Sequence}].{key}", a, b));
                }
            }
        }
        else
        {
            var replayed = outcome is NotSentNow n ? n.Events.Cast<object>().ToList() : [];
            replayedTypes = outcome is ClearedToSend ? ["clearedToSend"] : replayed.Select(TypeName).ToList();
            if (outcome is ClearedToSend)
                differences.Add(new FieldDifference("outcome", TypeName(decision.Data), "clearedToSend"));
            else
                Compare([decision.Data], replayed, differences);
        }

        var replay = new ReplayResult(differences.Count == 0, decision.Sequence, now, replayedTypes, differences, note);
        var account = DueAccount(decision.Data, clearance is not null, checks, now) + " " + Verdict(replay);
        return new DecisionTrace(clearance is not null ? "cleared" : "due", decision.Sequence, now, account,
            clearance is not null ? [] : [Recorded(decision)], ruleUsed, replay, checks);
    }

    private static DueChecks Checks(MessageScheduled message, CompiledTrigger? trigger, WorkspacePolicies policies, ContactFacts facts,
        DeliveryHistory history, ContactReachability reach, DateTimeZone contactZone, DateTimeZone workspaceZone, string workspace, Instant entry,
        Instant now)
    {
        ExceptionCheck? exceptions = null;
        AudienceCheck? audience = null;
        if (trigger is not null)
        {
            var names = trigger.CancelIf.Select(c => c.EventName).Distinct().ToList();
            var candidates = facts.Events
                .Where(e => names.Contains(e.Event.Name) && e.Event.Timestamp > entry && e.Event.Timestamp <= now)
                .Select(e => new ExceptionCandidate(e.Ref, trigger.IsCancelledBy(e.Event, facts.Snapshot, now, entry)))
                .ToList();
            exceptions = new ExceptionCheck(names, entry, now, candidates);
            if (trigger.Audience is { } a) audience = new AudienceCheck(a.Segments, a.Includes(facts.Snapshot, now, entry));
        }

        SendWindowCheck? window = null;
        var applied = trigger?.SendWindow ?? (message.Transactional ? null : policies.DefaultSendWindow);
        if (applied is not null)
        {
            var zone = applied.Zone == ZoneReference.Local ? contactZone : workspaceZone;
            var local = now.InZone(zone).LocalDateTime;
            window = new SendWindowCheck($"{applied.Start:HH:mm}-{applied.End:HH:mm}", trigger?.SendWindow is not null ? "trigger" : "quietHours",
                applied.Zone == ZoneReference.Local ? "local" : "workspace", zone.Id, local, applied.Contains(local.TimeOfDay),
                applied.NextOpening(now, zone));
        }

        var caps = message.Transactional
            ? []
            : policies.FrequencyCaps.Select(cap =>
            {
                var since = now - cap.Per;
                var received = history.Received.Count(m => !m.Transactional && m.SentAt > since);
                return new CapCheck($"{cap.Count} per {Describe(cap.Per)}", since, received, received >= cap.Count);
            }).ToList();

        var hasAddress = message.Channel == Channel.InApp || reach.Addresses.ContainsKey(message.Channel);
        var control = message.Rule is { } rule && trigger?.ControlGroup is { } group
            ? new ControlGroupCheck(group.Percent.ToString(CultureInfo.InvariantCulture) + "%", ControlGroups.BucketOf(workspace, rule.Name, message.ContactId),
                group.Buckets, group.Holds(ControlGroups.BucketOf(workspace, rule.Name, message.ContactId)))
            : null;
        return new DueChecks(message.Rule is null || trigger is not null, exceptions, audience, window, caps,
            new ReachCheck(message.Channel, hasAddress, reach.Unsubscribed.Contains(message.Channel)), message.Transactional, control);
    }

    private static string DueAccount(object decision, bool clearance, DueChecks checks, Instant now)
    {
        // The engine stops at the first check that decides (docs/semantics.md); the account names the checks up to it.
        var lastStep = decision switch
        {
            _ when clearance => 6,
            MessageWithheld => 6,
            MessageCancelled => 1,
            MessageRescheduled => 3,
            MessageSuppressed { Reason: SuppressionReason.RuleNotLive } => 0,
            MessageSuppressed { Reason: SuppressionReason.DateChanged } => 1,
            MessageSuppressed { Reason: SuppressionReason.Audience } => 2,
            MessageSuppressed { Reason: SuppressionReason.FrequencyCap } => 4,
            _ => 5,
        };
        var parts = new List<(int Step, string Text)>();
        if (checks.ExceptionEvents is { } ex)
        {
            var cancelling = ex.Candidates.FirstOrDefault(c => c.Cancels);
            parts.Add((1, ex.CancelIf.Count == 0 ? "the trigger names no exception event"
                : cancelling is not null ? $"the exception event \"{cancelling.Event.Name}\" (sequence {cancelling.Event.Sequence}, at {cancelling.Event.OccurredAt}) happened after the entry"
                : $"no exception event ({string.Join(", ", ex.CancelIf.Select(n => $"\"{n}\""))}) happened between {ex.From} and {ex.To}" +
                  (ex.Candidates.Count > 0 ? $" that met its conditions ({ex.Candidates.Count} looked at)" : "")));
        }
        if (checks.Audience is { } au)
            parts.Add((2, $"the contact was {(au.Included ? "" : "not ")}in the audience ({string.Join(", ", au.Segments.Select(s => $"segment {s}"))})"));
        if (checks.SendWindow is { } w)
            parts.Add((3, $"the send window {w.Window} ({w.Source}, {w.ZoneReference}) in {w.Zone} was {(w.Open ? "open" : "closed")} at local time " +
                $"{LocalDateTimePattern.GeneralIso.Format(w.LocalTime)}{(w.Open ? "" : $", next opening {w.NextOpening}")}"));
        foreach (var cap in checks.FrequencyCaps)
            parts.Add((4, $"the frequency cap {cap.Cap} counted {cap.Received} marketing message(s) since {cap.Since}{(cap.Reached ? " (reached)" : "")}"));
        if (checks.Transactional) parts.Add((4, "the message is transactional (no quiet hours, no caps)"));
        parts.Add((5, checks.Reach.HasAddress
            ? $"the contact has an address on {checks.Reach.Channel.Name()}{(checks.Reach.Unsubscribed ? " but unsubscribed from it" : "")}"
            : $"the contact has no address on {checks.Reach.Channel.Name()}"));
        if (checks.ControlGroup is { } cg)
            parts.Add((6, $"the contact's bucket for this trigger is {cg.Bucket} (of 0-9999), {(cg.InControlGroup ? "below" : "not below")} " +
                $"{cg.HeldOutBelow}, so the contact is {(cg.InControlGroup ? "" : "not ")}in its {cg.Share} control group"));
        var seen = string.Join("; ", parts.Where(p => p.Step <= lastStep).Select(p => p.Text));
        if (seen.Length == 0) seen = "no other check was reached";

        return decision switch
        {
            _ when clearance => $"At {now}, every check passed — {seen} — and the message was handed to its channel.",
            MessageRescheduled r => $"At {now}, the message was outside its send window: {seen}. It was held to {r.To}.",
            MessageWithheld held => $"At {now}, every check passed — {seen} — so the message was withheld, not sent: {held.Detail}",
            MessageCancelled c => $"At {now}, the message was cancelled by the exception event \"{c.CancellingEvent.Name}\" (id {c.CancellingEvent.EventId}, " +
                                  $"sequence {c.CancellingEvent.Sequence}, at {c.CancellingEvent.OccurredAt}): {seen}.",
            MessageSuppressed s => $"At {now}, the message was suppressed ({ReasonName(s.Reason)}): {s.Detail} Checks: {seen}.",
            _ => $"At {now}: {seen}.",
        };
    }

    /// <summary>The live set as of <paramref name="before"/>, compiled with each rule's text from its own version history
    /// (checked against the hash recorded at publication); the recorded version of an entry replaces the live one.</summary>
    private static (CompiledDocument? Document, LiveRuleSet Live, string? Note) Compile(AuditTrail trail, long before, RuleVersionRef? recorded,
        List<FieldDifference> differences)
    {
        var set = trail.LiveRulesBefore(before);
        var rules = new Dictionary<string, LiveRule>(set.Rules, StringComparer.Ordinal);
        if (recorded is not null)
        {
            if (!rules.TryGetValue(recorded.Name, out var live))
                differences.Add(new FieldDifference("rule.live", $"{recorded.Name} v{recorded.Version}", "not live at that position of the log"));
            else if (live.Version != recorded.Version)
                differences.Add(new FieldDifference("rule.version", recorded.Version.ToString(CultureInfo.InvariantCulture),
                    $"{live.Version.ToString(CultureInfo.InvariantCulture)} was live at that position of the log"));
        }

        foreach (var (name, live) in rules.ToList())
        {
            var version = recorded is not null && recorded.Name == name ? recorded.Version : live.Version;
            var hash = recorded is not null && recorded.Name == name ? recorded.ContentHash : live.ContentHash;
            var text = trail.VersionOf(name, version)?.Text ?? live.Text;
            var actual = Hash(text);
            if (actual != hash) differences.Add(new FieldDifference($"rules.{name}.v{version}.text", hash, actual));
            rules[name] = live with { Text = text, Version = version };
        }

        var compiled = RuleCompiler.Compile(new LiveRuleSet { Revision = set.Revision, Rules = rules }.ActiveText());
        return compiled.Document is null
            ? (null, set, "The rule texts live then do not compile: " + string.Join("; ", compiled.Diagnostics))
            : (compiled.Document, set, null);
    }

    private static RuleVersionTrace RuleTrace(AuditTrail trail, RuleVersionRef rule)
    {
        var text = trail.VersionOf(rule.Name, rule.Version)?.Text;
        return new RuleVersionTrace(rule.Name, rule.Version, rule.ContentHash, text, text is not null && Hash(text) == rule.ContentHash);
    }

    /// <summary>Field-by-field comparison of recorded and replayed decision events, in their JSON form.</summary>
    internal static void Compare(IReadOnlyList<object> recorded, IReadOnlyList<object> replayed, List<FieldDifference> differences)
    {
        if (recorded.Count != replayed.Count)
            differences.Add(new FieldDifference("decisions", string.Join(",", recorded.Select(TypeName)), string.Join(",", replayed.Select(TypeName))));
        for (var i = 0; i < Math.Min(recorded.Count, replayed.Count); i++)
        {
            if (recorded[i].GetType() != replayed[i].GetType())
            {
                differences.Add(new FieldDifference($"[{i}].type", TypeName(recorded[i]), TypeName(replayed[i])));
                continue;
            }
            var left = Flatten(recorded[i]);
            var right = Flatten(replayed[i]);
            if (recorded[i] is IDecisionRecord old && IsUnnamed(old))
            {
                // Recorded before decisions named their rule version and triggering event: compared without them.
                foreach (var key in right.Keys.Where(k => k.StartsWith("decidedUnder", StringComparison.Ordinal)
                             || k.StartsWith("triggeringEvent", StringComparison.Ordinal)).ToList())
                    right.Remove(key);
                foreach (var key in left.Keys.Where(k => k is "decidedUnder" or "triggeringEvent").ToList()) left.Remove(key);
            }
            foreach (var key in left.Keys.Union(right.Keys).OrderBy(k => k, StringComparer.Ordinal))
            {
                var a = left.GetValueOrDefault(key);
                var b = right.GetValueOrDefault(key);
                if (a != b) differences.Add(new FieldDifference(recorded.Count == 1 ? key : $"{TypeName(recorded[i])}.{key}", a, b));
            }
        }
    }

    private sealed record DecisionNames(RuleVersionRef? DecidedUnder, EventRef? TriggeringEvent);

    private static bool IsUnnamed(IDecisionRecord record) => record is { DecidedUnder: null, TriggeringEvent: null };

    private static Dictionary<string, string?> Flatten(object value)
    {
        var flat = new Dictionary<string, string?>(StringComparer.Ordinal);
        void Walk(JsonElement e, string path)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject()) Walk(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}");
                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in e.EnumerateArray()) Walk(item, $"{path}[{i++}]");
                    break;
                case JsonValueKind.Null:
                    flat[path] = null;
                    break;
                case JsonValueKind.String:
                    flat[path] = e.GetString();
                    break;
                default:
                    flat[path] = e.GetRawText();
                    break;
            }
        }
        Walk(JsonSerializer.SerializeToElement(value, value.GetType(), Json), "");
        return flat;
    }

    private static string Verdict(ReplayResult replay) => replay.Reproduced
        ? $"Replaying the events stored before sequence {replay.AsOfSequence} at {replay.At} reproduces this decision."
        : $"Replaying the events stored before sequence {replay.AsOfSequence} at {replay.At} does NOT reproduce this decision: " +
          string.Join("; ", replay.Differences.Select(d => $"{d.Field} recorded {d.Recorded ?? "nothing"}, replay gives {d.Replayed ?? "nothing"}")) +
          (replay.Note is null ? "" : $" ({replay.Note})") + ".";

    internal static RecordedDecision Recorded(LoggedEvent e) => new(TypeName(e.Data), e.Sequence, e.EventId, e.Data);

    public static string TypeName(object data) => JsonNamingPolicy.CamelCase.ConvertName(data.GetType().Name);

    private static string ReasonName(SuppressionReason reason) => JsonNamingPolicy.CamelCase.ConvertName(reason.ToString());

    private static Instant AttemptInstant(object data) => data switch
    {
        InboxMessageDelivered d => d.DeliveredAt,
        MessageSent s => s.SentAt,
        MessageFailed f => f.FailedAt,
        _ => throw new ArgumentOutOfRangeException(nameof(data)),
    };

    public static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    private static string Describe(Duration d) =>
        d.TotalDays >= 1 && d.TotalDays % 1 == 0 ? $"{d.TotalDays.ToString(CultureInfo.InvariantCulture)}d"
        : d.TotalHours >= 1 && d.TotalHours % 1 == 0 ? $"{d.TotalHours.ToString(CultureInfo.InvariantCulture)}h"
        : $"{d.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m";
}
