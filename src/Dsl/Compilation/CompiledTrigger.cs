using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>
/// A trigger ready for the delivery engine: what starts it (<see cref="EventNames"/> with
/// <see cref="MatchesEvent"/>, or a <see cref="DateSchedule"/>), how long to wait, what cancels it, who may
/// receive it, what to send, when, how often, during which campaign dates, and the goal it is measured by.
/// </summary>
public sealed class CompiledTrigger
{
    readonly ConditionFunc? _where;
    readonly string[] _eventNames;

    internal CompiledTrigger(
        string name,
        int line,
        string[] eventNames,
        ConditionFunc? where,
        DateSchedule? onDate,
        Duration wait,
        IReadOnlyList<EventMatcher> cancelIf,
        Audience? audience,
        MessageTemplate message,
        SendWindow? sendWindow,
        FrequencyCap? atMost,
        ActivePeriod? active,
        Goal? goal,
        bool isTransactional,
        ControlGroup? controlGroup)
    {
        Name = name;
        Line = line;
        _eventNames = eventNames;
        _where = where;
        OnDate = onDate;
        Wait = wait;
        CancelIf = cancelIf;
        Audience = audience;
        Message = message;
        SendWindow = sendWindow;
        AtMost = atMost;
        Active = active;
        Goal = goal;
        IsTransactional = isTransactional;
        ControlGroup = controlGroup;
    }

    public string Name { get; }

    public int Line { get; }

    /// <summary>Events that start this trigger; empty for a date trigger. Index triggers by these.</summary>
    public IReadOnlyList<string> EventNames => _eventNames;

    /// <summary>Set for <c>on date …</c> triggers.</summary>
    public DateSchedule? OnDate { get; }

    /// <summary>Zero when the trigger has no <c>wait</c>.</summary>
    public Duration Wait { get; }

    /// <summary>Exception events: any of these between the trigger and the send cancels the message.</summary>
    public IReadOnlyList<EventMatcher> CancelIf { get; }

    public Audience? Audience { get; }

    public MessageTemplate Message { get; }

    /// <summary>The trigger's own window; when null, the workspace quiet hours decide (unless transactional).</summary>
    public SendWindow? SendWindow { get; }

    /// <summary>Per contact, for this trigger.</summary>
    public FrequencyCap? AtMost { get; }

    public ActivePeriod? Active { get; }

    public Goal? Goal { get; }

    /// <summary>Transactional messages skip workspace frequency caps and quiet hours.</summary>
    public bool IsTransactional { get; }

    /// <summary>The share of contacts held out of this trigger's messages (<c>control group 10%</c>), or null.</summary>
    public ControlGroup? ControlGroup { get; }

    /// <summary>Whether <paramref name="candidate"/> starts this trigger: one of its event names, and its
    /// <c>where</c> filter holds (<c>properties.*</c> and <c>context.*</c> read the candidate event).</summary>
    public bool MatchesEvent(RecordedEvent candidate, ContactSnapshot contact, Instant now)
    {
        var names = _eventNames;
        var named = false;
        for (var i = 0; i < names.Length; i++)
        {
            if (string.Equals(names[i], candidate.Name, StringComparison.Ordinal))
            {
                named = true;
                break;
            }
        }
        return named && (_where is null || _where(new EvaluationScope(contact, candidate, now, now)));
    }

    /// <summary>Whether <paramref name="candidate"/>, seen after the contact entered at <paramref name="entry"/>,
    /// cancels the pending message.</summary>
    public bool IsCancelledBy(RecordedEvent candidate, ContactSnapshot contact, Instant now, Instant entry)
    {
        foreach (var matcher in CancelIf)
        {
            if (matcher.Matches(candidate, contact, now, entry))
                return true;
        }
        return false;
    }
}
