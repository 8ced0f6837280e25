using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Compilation;

public enum Channel
{
    Email,
    Sms,
    Push,
    WebPush,
    InApp,
    WhatsApp,
    Webhook,
}

/// <summary><c>send email "cart-reminder"</c></summary>
public sealed record MessageTemplate(Channel Channel, string Template);

/// <summary>
/// <c>control group 10%</c>: contacts whose bucket (0 to 9,999, a stable hash of workspace, trigger name and contact; see
/// docs/semantics.md) is below <see cref="Buckets"/> are held out of the trigger's messages.
/// </summary>
public sealed record ControlGroup(decimal Percent)
{
    public const int BucketCount = 10_000;

    /// <summary>How many of the 10,000 buckets are in the control group: 10% is buckets 0 to 999.</summary>
    public int Buckets => (int)(Percent * 100);

    public bool Holds(int bucket) => bucket < Buckets;
}

/// <summary><c>at most 1 per 7d</c>, or one entry of <c>policy frequency cap</c>.</summary>
public sealed record FrequencyCap(int Count, Duration Per);

/// <summary>
/// Hours during which a message may go out, read on the contact's clock (<see cref="ZoneReference.Local"/>)
/// or the workspace's. The start is included and the end is not; a window whose end is earlier than its
/// start runs past midnight (21:00–09:00).
/// </summary>
public sealed record SendWindow(LocalTime Start, LocalTime End, ZoneReference Zone)
{
    public bool Contains(LocalTime time) =>
        Start < End ? time >= Start && time < End : time >= Start || time < End;

    /// <summary>The first instant at or after <paramref name="candidate"/> that falls inside the window in
    /// <paramref name="zone"/>. Opening times skipped by a daylight-saving change move forward with the clock.</summary>
    public Instant NextOpening(Instant candidate, DateTimeZone zone)
    {
        var local = candidate.InZone(zone).LocalDateTime;
        if (Contains(local.TimeOfDay))
            return candidate;
        var date = local.TimeOfDay < Start ? local.Date : local.Date.PlusDays(1);
        return zone.AtLeniently(date + Start).ToInstant();
    }
}

/// <summary><c>policy quiet hours 21:00 to 09:00 local</c>: when nothing non-transactional goes out.</summary>
public sealed record QuietHours(LocalTime Start, LocalTime End, ZoneReference Zone)
{
    /// <summary>The hours outside the quiet ones, used as the send window of triggers that name none.</summary>
    public SendWindow AsSendWindow() => new(End, Start, Zone);
}

/// <summary><c>active from 2026-12-01 to 2027-01-01</c>: both days included, read in the workspace time zone.</summary>
public sealed record ActivePeriod(LocalDate? From, LocalDate? To)
{
    public bool Includes(LocalDate date) => (From is not { } from || date >= from) && (To is not { } to || date <= to);

    public bool IsActiveAt(Instant now, DateTimeZone workspaceZone) => Includes(now.InZone(workspaceZone).Date);
}

/// <summary>
/// <c>goal event "order_completed" within 3d revenue properties.total</c>: the conversion credited to the message, and
/// where its revenue is read (a path of the goal event's properties; none when no revenue line was written).
/// </summary>
public sealed record Goal(EventMatcher Event, Duration Within, IReadOnlyList<string>? RevenuePath = null)
{
    /// <summary>The goal event's revenue: the number at <see cref="RevenuePath"/> (a number, or text that reads as one), else null.</summary>
    public decimal? RevenueOf(RecordedEvent conversion)
    {
        if (RevenuePath is null) return null;
        Value? current = conversion.Properties;
        foreach (var key in RevenuePath)
        {
            if (current is not ObjectValue o || !o.Members.TryGetValue(key, out current)) return null;
        }
        return current is not null && ValueSemantics.TryNumber(current, out var number) ? number : null;
    }
}

/// <summary>
/// <c>on date traits.vip_expires_at minus 30d, 15d, 7d at 10:00 local</c>: the message goes out on days
/// computed from a date trait. Offsets are signed days (minus 30d is -30).
/// </summary>
public sealed record DateSchedule(IReadOnlyList<string> TraitPath, IReadOnlyList<int> OffsetDays, LocalTime At, ZoneReference Zone)
{
    /// <summary>The trait's calendar date: an ISO date, the date of an ISO date-time, or a time value read in <paramref name="zone"/>.</summary>
    public LocalDate? ReadDate(ContactSnapshot contact, DateTimeZone zone)
    {
        Value? current = contact.Traits;
        foreach (var key in TraitPath)
        {
            if (current is not ObjectValue o || !o.Members.TryGetValue(key, out current))
                return null;
        }
        return ValueSemantics.TryDate(current, zone);
    }

    /// <summary>When each reminder is due, earliest first; empty when the trait is missing or not a date.
    /// Pass the contact's zone for <c>local</c>, the workspace's for <c>workspace</c>.</summary>
    public IReadOnlyList<Instant> OccurrencesFor(ContactSnapshot contact, DateTimeZone zone)
    {
        if (ReadDate(contact, zone) is not { } date)
            return [];
        var occurrences = new List<Instant>(OffsetDays.Count);
        foreach (var days in OffsetDays)
        {
            // A trait near the end of the calendar (9999-12-31) has no day 30 days later; skip that reminder.
            if (date.Year is > 9990 or < -9990)
                continue;
            occurrences.Add(zone.AtLeniently(date.PlusDays(days) + At).ToInstant());
        }
        occurrences.Sort();
        return occurrences;
    }
}
