using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Domain.Delivery;

/// <summary>
/// <c>on date traits.vip_expires_at minus 30d, 15d, 7d at 10:00 local</c>: when a contact's traits change, each
/// reminder still ahead is scheduled once (its message id is derived from the rule version, the contact and the
/// reminder's instant), and at its due time a reminder whose date no longer follows from the trait is dropped.
/// </summary>
public static class DateTriggerDecisions
{
    private static readonly Guid Namespace = Guid.Parse("5d7e0c1a-3b8f-4e62-9c4d-2f6a8b1e7d30");

    public static Guid MessageIdFor(RuleVersionRef rule, Guid contactId, Instant occurrence) =>
        DeterministicGuid.Create(Namespace, $"{rule.Name}/{rule.Version}/{contactId:N}/{occurrence.ToUnixTimeTicks()}");

    public static DateTimeZone ZoneFor(DateSchedule schedule, DateTimeZone contactZone, DateTimeZone workspaceZone) =>
        schedule.Zone == ZoneReference.Local ? contactZone : workspaceZone;

    /// <summary>The reminders to schedule now; <paramref name="alreadyScheduled"/> tells which message ids exist.</summary>
    public static IReadOnlyList<IMessageEvent> OnTraitsChanged(
        CompiledTrigger trigger,
        RuleVersionRef rule,
        Guid contactId,
        ContactEvent traitsChange,
        ContactSnapshot contact,
        DateTimeZone zone,
        Func<Guid, bool> alreadyScheduled,
        Instant now)
    {
        if (trigger.OnDate is not { } schedule) return [];
        var decided = new List<IMessageEvent>();
        foreach (var occurrence in schedule.OccurrencesFor(contact, zone))
        {
            if (occurrence <= now) continue;
            var messageId = MessageIdFor(rule, contactId, occurrence);
            if (alreadyScheduled(messageId)) continue;

            var facts = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["trait"] = "traits." + string.Join('.', schedule.TraitPath),
                ["date"] = schedule.ReadDate(contact, zone)?.ToString("uuuu-MM-dd", null) ?? "",
                ["occurrence"] = occurrence.ToString(),
                ["zone"] = zone.Id,
            };
            decided.Add(new TriggerMatched(contactId, messageId, rule, traitsChange.Ref, now, facts));
            decided.Add(new MessageScheduled(contactId, messageId, TriggerDecisions.ToChannel(trigger.Message.Channel), trigger.Message.Template,
                now, occurrence, rule, trigger.IsTransactional, traitsChange.Event.Timestamp, traitsChange.Ref));
        }
        return decided;
    }

    /// <summary>True when <paramref name="dueAt"/> still follows from the contact's current trait.</summary>
    public static bool StillDue(CompiledTrigger trigger, ContactSnapshot contact, DateTimeZone zone, Instant dueAt) =>
        trigger.OnDate is not { } schedule || schedule.OccurrencesFor(contact, zone).Contains(dueAt);
}
