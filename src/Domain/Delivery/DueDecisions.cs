using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using Channel = EventSourcedJourneys.Domain.Messages.Channel;
using static EventSourcedJourneys.Domain.Delivery.TriggerDecisions;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>The outcome of a message's due time: a recorded decision not to send (yet), or clearance to send.</summary>
public abstract record DueOutcome;

/// <summary>Cancelled, suppressed or rescheduled: the events say which and why.</summary>
public sealed record NotSentNow(IReadOnlyList<IMessageEvent> Events) : DueOutcome
{
    public MessageRescheduled? Rescheduled => Events.OfType<MessageRescheduled>().FirstOrDefault();
}

/// <summary>Every check passed: send to <paramref name="Address"/>.</summary>
public sealed record ClearedToSend(Channel Channel, string Address) : DueOutcome;

/// <summary>
/// What happens when a message's wait is over, in the order docs/semantics.md states: exception events, audience,
/// send window, frequency caps, address and consent — and last, the trigger's control group, so that the contacts held out
/// are exactly those who would otherwise have been sent the message. Pure and deterministic.
/// Every decision names <c>decidedUnder</c>, the trigger version live now (null for a message scheduled through the API, or
/// when the trigger is no longer live), and the message's triggering event.
/// </summary>
public static class DueDecisions
{
    public static DueOutcome OnDue(
        PendingMessage pending,
        CompiledTrigger? trigger,
        RuleVersionRef? decidedUnder,
        WorkspacePolicies policies,
        ContactSnapshot contact,
        IReadOnlyList<ContactEvent> events,
        DeliveryHistory history,
        ContactReachability reach,
        DateTimeZone contactZone,
        DateTimeZone workspaceZone,
        string workspace,
        Instant now)
    {
        var message = pending.Scheduled;
        var entry = pending.EntryAt;
        var triggering = message.TriggeringEvent;
        NotSentNow Suppress(SuppressionReason reason, string detail, Dictionary<string, string>? facts = null) =>
            new([new MessageSuppressed(message.ContactId, message.MessageId, reason, detail, facts ?? [], now, decidedUnder, triggering)]);

        if (message.Rule is { } rule)
        {
            if (trigger is null)
                return Suppress(SuppressionReason.RuleNotLive, $"Trigger '{rule.Name}' was paused or archived before the message went out.");

            // Any exception event between the triggering event and now cancels; the earliest one is named.
            var cancelling = events
                .Where(e => e.Event.Timestamp > entry && e.Event.Timestamp <= now && trigger.IsCancelledBy(e.Event, contact, now, entry))
                .OrderBy(e => e.Event.Timestamp).ThenBy(e => e.Ref.Sequence)
                .FirstOrDefault();
            if (cancelling is not null)
                return new NotSentNow([new MessageCancelled(message.ContactId, message.MessageId, cancelling.Ref, now, decidedUnder, triggering)]);

            if (trigger.OnDate is { } schedule
                && !DateTriggerDecisions.StillDue(trigger, contact, DateTriggerDecisions.ZoneFor(schedule, contactZone, workspaceZone), message.DueAt))
                return Suppress(SuppressionReason.DateChanged,
                    $"The reminder of '{rule.Name}' due at {message.DueAt} no longer follows from traits.{string.Join('.', schedule.TraitPath)}.");

            if (trigger.Audience is { } audience && !audience.Includes(contact, now, entry))
                return Suppress(SuppressionReason.Audience,
                    $"The contact was not in the audience of '{rule.Name}' ({string.Join(", ", audience.Segments.Select(s => $"segment {s}"))}) at {now}.",
                    new() { ["segments"] = string.Join(",", audience.Segments) });
        }

        var window = trigger?.SendWindow ?? (message.Transactional ? null : policies.DefaultSendWindow);
        if (window is not null)
        {
            var zone = window.Zone == ZoneReference.Local ? contactZone : workspaceZone;
            var opening = window.NextOpening(now, zone);
            if (opening > now)
            {
                return new NotSentNow([new MessageRescheduled(message.ContactId, message.MessageId, now, opening,
                    $"{window.Start:HH:mm}-{window.End:HH:mm}", zone.Id, now, decidedUnder, triggering)]);
            }
        }

        if (!message.Transactional)
        {
            foreach (var cap in policies.FrequencyCaps)
            {
                var since = now - cap.Per;
                var received = history.Received.Count(m => !m.Transactional && m.SentAt > since);
                if (received >= cap.Count)
                    return Suppress(SuppressionReason.FrequencyCap,
                        $"The workspace allows at most {cap.Count} marketing messages per {Describe(cap.Per)}; the contact received {received} since {since}.",
                        new() { ["cap"] = $"{cap.Count} per {Describe(cap.Per)}", ["received"] = Count(received), ["since"] = since.ToString() });
            }
        }

        var address = AddressOf(message.Channel, reach, message.ContactId);
        if (address is null)
            return Suppress(SuppressionReason.MissingAddress, $"The contact has no {message.Channel.Name()} address.");
        if (reach.Unsubscribed.Contains(message.Channel))
            return Suppress(SuppressionReason.Consent, $"The contact unsubscribed from {message.Channel.Name()}.");

        if (message.Rule is { } held && trigger?.ControlGroup is { } control)
        {
            var bucket = ControlGroups.BucketOf(workspace, held.Name, message.ContactId);
            if (control.Holds(bucket))
            {
                var share = control.Percent.ToString(System.Globalization.CultureInfo.InvariantCulture) + "%";
                return new NotSentNow([new MessageWithheld(message.ContactId, message.MessageId, held, message.Channel,
                    $"The contact is in the control group of '{held.Name}' ({share}): bucket {Count(bucket)} of 0-9999 is below {Count(control.Buckets)}.",
                    new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        ["controlGroup"] = share,
                        ["bucket"] = Count(bucket),
                        ["heldOutBelow"] = Count(control.Buckets),
                    },
                    now, decidedUnder, triggering)]);
            }
        }

        return new ClearedToSend(message.Channel, address);
    }

    // In-app messages go to the contact's own inbox; webhooks to the workspace's endpoint (given in the reachability).
    private static string? AddressOf(Channel channel, ContactReachability reach, Guid contactId) =>
        channel == Channel.InApp ? contactId.ToString() : reach.Addresses.GetValueOrDefault(channel);
}
