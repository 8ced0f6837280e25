using NodaTime;

namespace EventSourcedJourneys.Dsl.Ast;

/// <summary>One line of a trigger. Clauses may come in any order; the checker enforces which are required.</summary>
public abstract record TriggerClause;

/// <summary><c>on event "a", "b" where …</c></summary>
public sealed record OnEventClause(NodeList<string> EventNames, Condition? Where) : TriggerClause;

/// <summary><c>on date traits.vip_expires_at minus 30d, 15d at 10:00 local</c></summary>
public sealed record OnDateClause(
    PathOperand DatePath,
    OffsetDirection Direction,
    NodeList<DurationLiteral> Offsets,
    LocalTime At,
    ZoneReference Zone) : TriggerClause;

/// <summary><c>on entered segment vip</c> or <c>on exited segment vip</c>: the contact's membership changed.</summary>
public sealed record OnSegmentClause(SegmentChange Change, string Segment) : TriggerClause;

public enum SegmentChange
{
    Entered,
    Exited,
}

/// <summary><c>wait 30m</c></summary>
public sealed record WaitClause(DurationLiteral Duration) : TriggerClause;

/// <summary><c>cancel if event "order_completed" where …</c>: an exception event.</summary>
public sealed record CancelIfClause(EventPattern Event) : TriggerClause;

/// <summary><c>audience segment active_buyers</c>: checked when the message is about to go out.</summary>
public sealed record AudienceClause(Condition Condition) : TriggerClause;

/// <summary><c>send email "cart-reminder"</c></summary>
public sealed record SendMessageClause(string Channel, string Template) : TriggerClause;

/// <summary><c>send between 09:00 and 21:00 local</c></summary>
public sealed record SendWindowClause(TimeOfDayRange Hours) : TriggerClause;

/// <summary><c>at most 1 per 7d</c></summary>
public sealed record AtMostClause(CapLiteral Cap) : TriggerClause;

/// <summary><c>active from 2026-12-01 to 2027-01-01</c>; either end may be left out.</summary>
public sealed record ActiveClause(LocalDate? From, LocalDate? To) : TriggerClause;

/// <summary><c>goal event "order_completed" within 3d revenue properties.total</c>; the revenue path is optional.</summary>
public sealed record GoalClause(EventPattern Event, DurationLiteral Within, PathOperand? Revenue = null) : TriggerClause;

/// <summary><c>control group 10%</c>: that share of the contacts is held out of the trigger's messages, for measuring uplift.
/// <paramref name="Percent"/> is what was written (the checker keeps it above 0, below 100, with at most two decimals).</summary>
public sealed record ControlGroupClause(PercentLiteral Percent) : TriggerClause;

/// <summary><c>transactional</c>: skips frequency caps and quiet hours.</summary>
public sealed record TransactionalClause : TriggerClause;

public enum OffsetDirection
{
    Minus,
    Plus,
}
