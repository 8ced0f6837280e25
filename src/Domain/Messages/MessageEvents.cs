using NodaTime;

namespace EventSourcedJourneys.Domain.Messages;

/// <summary>Anything about one contact that the engine processes: such messages are handled one at a time per
/// contact, in order, while different contacts proceed in parallel.</summary>
public interface IContactMessage
{
    Guid ContactId { get; }
}

/// <summary>Something that happened to one message addressed to a contact; appended to the contact's stream.</summary>
public interface IMessageEvent : IContactMessage
{
    Guid MessageId { get; }
}

/// <summary>The rule version a decision ran under: enough for an auditor to find its exact text.</summary>
public sealed record RuleVersionRef(string Name, int Version, string ContentHash);

/// <summary>An event of the contact as the engine saw it: its identity in the store and its event time.</summary>
public sealed record EventRef(Guid EventId, long Sequence, string Name, Instant OccurredAt);

/// <summary>
/// A decision about a message after it was scheduled (or refused at entry): it names the rule version it was made under
/// and the event that started the message, so that an auditor need not join it to the message's first events.
/// Both are null on a message scheduled through the API, and on decisions recorded before they carried them.
/// </summary>
public interface IDecisionRecord : IMessageEvent
{
    /// <summary>The trigger version the decision ran under: at due time the one live then, which a republish during
    /// the wait may have made differ from the version that started the message; null when the trigger was no longer live.</summary>
    RuleVersionRef? DecidedUnder { get; }

    /// <summary>The contact's event that started the message (its id and sequence in the store).</summary>
    EventRef? TriggeringEvent { get; }
}

/// <summary>
/// An ingested event started a published trigger for this contact. <paramref name="Facts"/> are the values the
/// decision rested on (the triggering event's properties, the window, the counts), for audits.
/// </summary>
public sealed record TriggerMatched(
    Guid ContactId,
    Guid MessageId,
    RuleVersionRef Rule,
    EventRef TriggeringEvent,
    Instant MatchedAt,
    IReadOnlyDictionary<string, string> Facts) : IMessageEvent;

/// <summary>A message was scheduled for a contact, to become due at <paramref name="DueAt"/>.
/// <paramref name="Rule"/> is null for a message scheduled through the API rather than by a trigger.</summary>
public sealed record MessageScheduled(
    Guid ContactId,
    Guid MessageId,
    Channel Channel,
    string Template,
    Instant ScheduledAt,
    Instant DueAt,
    RuleVersionRef? Rule = null,
    bool Transactional = false,
    Instant? EntryAt = null,
    EventRef? TriggeringEvent = null) : IMessageEvent;

/// <summary>Outside its send window: held to the next opening in the zone that applies.</summary>
public sealed record MessageRescheduled(
    Guid ContactId,
    Guid MessageId,
    Instant From,
    Instant To,
    string Window,
    string Zone,
    Instant DecidedAt,
    RuleVersionRef? DecidedUnder = null,
    EventRef? TriggeringEvent = null) : IDecisionRecord;

/// <summary>An exception event (<c>cancel if</c>) happened between the trigger and the send.</summary>
public sealed record MessageCancelled(
    Guid ContactId,
    Guid MessageId,
    EventRef CancellingEvent,
    Instant DecidedAt,
    RuleVersionRef? DecidedUnder = null,
    EventRef? TriggeringEvent = null) : IDecisionRecord;

public enum SuppressionReason
{
    /// <summary>The contact was not in the trigger's audience when the message was about to go out.</summary>
    Audience,

    /// <summary>A workspace frequency cap (<c>policy frequency cap</c>) was reached.</summary>
    FrequencyCap,

    /// <summary>The trigger's own <c>at most N per window</c> was reached.</summary>
    ReEligibility,

    /// <summary>The contact unsubscribed from the channel.</summary>
    Consent,

    /// <summary>The contact has no address on the channel (no email, phone or push token).</summary>
    MissingAddress,

    /// <summary>The trigger was paused or archived before the message went out.</summary>
    RuleNotLive,

    /// <summary>The message's template could not be rendered.</summary>
    Rendering,

    /// <summary>A date reminder whose date no longer follows from the contact's trait (the trait changed).</summary>
    DateChanged,
}

/// <summary>The message will not go out; <paramref name="Detail"/> says why in plain words, <paramref name="Facts"/> with values.</summary>
public sealed record MessageSuppressed(
    Guid ContactId,
    Guid MessageId,
    SuppressionReason Reason,
    string Detail,
    IReadOnlyDictionary<string, string> Facts,
    Instant DecidedAt,
    RuleVersionRef? DecidedUnder = null,
    EventRef? TriggeringEvent = null) : IDecisionRecord;

/// <summary>
/// The message passed every check and would have gone out, but the contact is in the trigger's control group
/// (<c>control group 10%</c>): nothing is sent, and the contact's conversions are measured against those who received it.
/// <paramref name="Rule"/> is the trigger version that scheduled the message (the reports and goals count the message under
/// it), <paramref name="DecidedUnder"/> the one live when it was withheld; <paramref name="Facts"/> hold the bucket and
/// the share held out, for audits.
/// </summary>
public sealed record MessageWithheld(
    Guid ContactId,
    Guid MessageId,
    RuleVersionRef Rule,
    Channel Channel,
    string Detail,
    IReadOnlyDictionary<string, string> Facts,
    Instant DecidedAt,
    RuleVersionRef? DecidedUnder = null,
    EventRef? TriggeringEvent = null) : IDecisionRecord;

/// <summary>The channel's provider accepted the message. <paramref name="RuleVersion"/> is the trigger version that
/// scheduled it (the reports and goals count the message under it), <paramref name="DecidedUnder"/> the one live when it
/// was cleared to send.</summary>
public sealed record MessageSent(
    Guid ContactId,
    Guid MessageId,
    Channel Channel,
    string ProviderMessageId,
    int Attempt,
    Instant SentAt,
    string? Rule = null,
    bool Transactional = false,
    RuleVersionRef? RuleVersion = null,
    RuleVersionRef? DecidedUnder = null,
    EventRef? TriggeringEvent = null) : IDecisionRecord;

/// <summary>A delivery attempt failed; <paramref name="Permanent"/> failures are not retried.</summary>
public sealed record MessageFailed(
    Guid ContactId,
    Guid MessageId,
    Channel Channel,
    string Reason,
    int Attempt,
    bool Permanent,
    Instant FailedAt,
    RuleVersionRef? DecidedUnder = null,
    EventRef? TriggeringEvent = null) : IDecisionRecord;

/// <summary>
/// A goal event (<c>goal event "order_completed" within 3d</c>) followed a message within its window: the conversion
/// is credited to that message. The attribution reports read these.
/// </summary>
/// <paramref name="Channel"/> is the message's channel; <paramref name="Revenue"/> what the goal's <c>revenue</c> path read
/// from the conversion event (null without a revenue line, or when the event carried no number there).
public sealed record ConversionAttributed(
    Guid ContactId,
    Guid MessageId,
    RuleVersionRef Rule,
    EventRef ConversionEvent,
    Instant SentAt,
    Instant DecidedAt,
    Channel? Channel = null,
    decimal? Revenue = null) : IMessageEvent;

/// <summary>
/// A goal event followed a message withheld from a control-group contact (<see cref="MessageWithheld"/>) within the goal's
/// window, counted from the instant it was withheld: the control group's side of the conversion, which the uplift compares.
/// No message is credited; the attribution models never see it.
/// </summary>
public sealed record ControlGroupConverted(
    Guid ContactId,
    Guid MessageId,
    RuleVersionRef Rule,
    EventRef ConversionEvent,
    Instant WithheldAt,
    Instant DecidedAt,
    Channel? Channel = null,
    decimal? Revenue = null) : IMessageEvent;

/// <summary>An in-app message reached the contact's inbox, with what the app shows.</summary>
public sealed record InboxMessageDelivered(
    Guid ContactId,
    Guid MessageId,
    string Template,
    string? Title,
    string Body,
    IReadOnlyDictionary<string, string>? Data,
    Instant DeliveredAt,
    RuleVersionRef? DecidedUnder = null,
    EventRef? TriggeringEvent = null) : IDecisionRecord;

/// <summary>The contact opened the in-app message (reported by the app).</summary>
public sealed record InboxMessageRead(Guid ContactId, Guid MessageId, Instant ReadAt) : IMessageEvent;

/// <summary>
/// A receipt about a sent message came back through the tracking API (ADR 0009): what the provider or the app reported.
/// <paramref name="ReceiptMessageId"/> is the tracking call's messageId (one receipt, one event); <paramref name="At"/>
/// its event time. The message's contact owns the event, whoever the call was about.
/// </summary>
public interface IMessageReceipt : IMessageEvent
{
    string ReceiptMessageId { get; }
    Instant At { get; }
}

/// <summary>The provider delivered the message (<c>"Email Delivered"</c>, <c>"Push Notification Received"</c>, a Twilio <c>delivered</c> status).</summary>
public sealed record MessageDelivered(Guid ContactId, Guid MessageId, string ReceiptMessageId, Instant At) : IMessageReceipt;

/// <summary>The contact opened the message (<c>"Email Opened"</c>, <c>"Push Notification Tapped"</c>, a WhatsApp <c>read</c>).</summary>
public sealed record MessageOpened(Guid ContactId, Guid MessageId, string ReceiptMessageId, Instant At) : IMessageReceipt;

/// <summary>The contact followed a link of the message (<c>"Email Link Clicked"</c>); <paramref name="Url"/> as reported.</summary>
public sealed record MessageClicked(Guid ContactId, Guid MessageId, string? Url, string ReceiptMessageId, Instant At) : IMessageReceipt;

/// <summary>The message did not reach the contact (<c>"Email Bounced"</c>, a Twilio <c>undelivered</c>); <paramref name="Reason"/> as reported.</summary>
public sealed record MessageBounced(Guid ContactId, Guid MessageId, string? Reason, string ReceiptMessageId, Instant At) : IMessageReceipt;

/// <summary>The contact unsubscribed from the message's channel through this message (its consent change is a
/// <c>ChannelSubscriptionChanged</c> appended with it).</summary>
public sealed record MessageUnsubscribed(Guid ContactId, Guid MessageId, Channel Channel, string ReceiptMessageId, Instant At) : IMessageReceipt;
