using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Delivery;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Rules;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Projections.Contacts;
using EventSourcedJourneys.Projections.Messages;
using EventSourcedJourneys.Projections.Rules;
using JasperFx.Events;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Audit;

/// <summary>A stored event as the audit reads it: its position in the log, its stream and its data.</summary>
public sealed record LoggedEvent(long Sequence, Guid EventId, Guid StreamId, object Data, IEvent? Original = null);

/// <summary>
/// One person's stored history (their own stream and those merged into it) and the workspace's rule history, able to
/// say what the engine could read at any position of the event log: the profile folded by the profile projection's own
/// Create/Apply from the events stored before that position, the delivery log folded the same way, and the live rule
/// set folded from the rule streams' events. Nothing here decides: the engine's pure functions do (see
/// <see cref="DecisionReplay"/>).
/// </summary>
public sealed class AuditTrail
{
    private readonly IReadOnlyList<LoggedEvent> _contactEvents;
    private readonly IReadOnlyList<LoggedEvent> _ruleEvents;

    public AuditTrail(Guid contactId, IReadOnlyList<LoggedEvent> contactEvents, IReadOnlyList<LoggedEvent> ruleEvents,
        IReadOnlyDictionary<string, RuleState> rules)
    {
        ContactId = contactId;
        _contactEvents = contactEvents.OrderBy(e => e.Sequence).ToList();
        _ruleEvents = ruleEvents.OrderBy(e => e.Sequence).ToList();
        Rules = rules;
    }

    /// <summary>The person (the surviving contact of any merges, as of now).</summary>
    public Guid ContactId { get; }

    /// <summary>Every stored event of the person's streams, in log order.</summary>
    public IReadOnlyList<LoggedEvent> ContactEvents => _contactEvents;

    /// <summary>Every rule with every version it ever had (exact texts), by name.</summary>
    public IReadOnlyDictionary<string, RuleState> Rules { get; }

    /// <summary>The decision events (anything about a message), in log order.</summary>
    public IEnumerable<LoggedEvent> Decisions => _contactEvents.Where(e => e.Data is IMessageEvent);

    /// <summary>What the engine read about the contact of <paramref name="streamId"/> with the log up to (not including)
    /// <paramref name="before"/>: the profile and the events as the live engine assembles them.</summary>
    public ContactFacts FactsBefore(Guid streamId, long before)
    {
        var profiles = new Dictionary<Guid, ContactProfile>();
        foreach (var e in _contactEvents)
        {
            if (e.Sequence >= before) break;
            var current = profiles.GetValueOrDefault(e.StreamId);
            if (ApplyToProfile(current, e) is { } applied) profiles[e.StreamId] = applied;
        }

        // Follow merges as they stood then, as ContactProfiles.LoadAsync does with the current ones.
        var survivorId = streamId;
        for (var hops = 0; hops < 10 && profiles.GetValueOrDefault(survivorId)?.MergedInto is { } into; hops++) survivorId = into;
        var survivor = profiles.GetValueOrDefault(survivorId);
        var streams = new List<Guid> { survivorId };
        var absorbed = new List<ContactProfile>();
        var pending = new Queue<Guid>(survivor?.MergedContactIds ?? []);
        while (pending.Count > 0 && streams.Count < 100)
        {
            var next = pending.Dequeue();
            if (streams.Contains(next)) continue;
            streams.Add(next);
            if (profiles.GetValueOrDefault(next) is not { } merged) continue;
            absorbed.Add(merged);
            foreach (var nested in merged.MergedContactIds) pending.Enqueue(nested);
        }
        var profile = survivor is null ? null : absorbed.Count == 0 ? survivor : ContactProfiles.Combine(survivor, absorbed);

        var events = _contactEvents
            .Where(e => e.Sequence < before && streams.Contains(e.StreamId))
            .Select(e => ProfileContactFacts.ContactEventOf(e.EventId, e.Sequence, e.Data))
            .OfType<ContactEvent>()
            .OrderBy(e => e.Event.Timestamp).ThenBy(e => e.Ref.Sequence)
            .ToList();
        return FactsOf(profile, events);
    }

    /// <summary>The delivery log of <paramref name="streamId"/> (caps, re-eligibility, same-second entries) with the log
    /// up to (not including) <paramref name="before"/>, folded by the log projection's own Create/Apply.</summary>
    public DeliveryHistory HistoryBefore(Guid streamId, long before)
    {
        ContactDeliveryLog? log = null;
        foreach (var e in _contactEvents)
        {
            if (e.Sequence >= before) break;
            if (e.StreamId != streamId) continue;
            log = e.Data switch
            {
                TriggerMatched m => log is null ? ContactDeliveryLogProjection.Create(m) : ContactDeliveryLogProjection.Apply(m, log),
                MessageSent s => log is null ? ContactDeliveryLogProjection.Create(s) : ContactDeliveryLogProjection.Apply(s, log),
                ConversionAttributed c when log is not null => ContactDeliveryLogProjection.Apply(c, log),
                MessageWithheld w => log is null ? ContactDeliveryLogProjection.Create(w) : ContactDeliveryLogProjection.Apply(w, log),
                ControlGroupConverted c when log is not null => ContactDeliveryLogProjection.Apply(c, log),
                _ => log,
            };
        }
        return log?.History ?? DeliveryHistory.Empty;
    }

    /// <summary>The workspace's live rule set with the log up to (not including) <paramref name="before"/>.</summary>
    public LiveRuleSet LiveRulesBefore(long before)
    {
        var set = new LiveRuleSet();
        foreach (var e in _ruleEvents)
        {
            if (e.Sequence >= before) break;
            set = e.Data switch
            {
                RuleVersionPublished p => LiveRuleSetProjection.Apply(p, set),
                RulePaused p => LiveRuleSetProjection.Apply(p, set),
                RuleResumed r => LiveRuleSetProjection.Apply(r, set),
                RuleArchived a => LiveRuleSetProjection.Apply(a, set),
                _ => set,
            };
        }
        return set;
    }

    /// <summary>The exact text of a rule version as stored with the rule (what GET /rules/{name}/versions/{v} shows).</summary>
    public RuleVersion? VersionOf(string name, int version) => Rules.GetValueOrDefault(name)?.Version(version);

    private static ContactProfile? ApplyToProfile(ContactProfile? profile, LoggedEvent e)
    {
        if (profile is null)
            return e.Data is IdentityLinked first ? ContactProfileProjection.Create(first) : null;
        return e.Data switch
        {
            IdentityLinked linked => ContactProfileProjection.Apply(linked, profile),
            ContactTracked tracked => ContactProfileProjection.Apply(tracked, profile),
            PageViewed page => ContactProfileProjection.Apply(page, profile),
            ScreenViewed screen => ContactProfileProjection.Apply(screen, profile),
            ContactAliased aliased => ContactProfileProjection.Apply(aliased, profile),
            ContactIdentified identified => ContactProfileProjection.Apply(identified, profile),
            ContactGrouped grouped => ContactProfileProjection.Apply(grouped, profile),
            ContactMerged merged => ContactProfileProjection.Apply(merged, profile),
            ContactMergedInto into => ContactProfileProjection.Apply(into, profile),
            ChannelSubscriptionChanged when e.Original is IEvent<ChannelSubscriptionChanged> changed => ContactProfileProjection.Apply(changed, profile),
            _ => profile,
        };
    }

    // The same assembly of facts as ProfileContactFacts.LoadAsync: traits, latest context, reachability and zone.
    private static ContactFacts FactsOf(ContactProfile? profile, IReadOnlyList<ContactEvent> events)
    {
        var traits = profile is null
            ? ObjectValue.Empty
            : new ObjectValue(profile.Traits.ToDictionary(t => t.Key, t => Value.FromJson(t.Value), StringComparer.Ordinal));
        var context = profile?.LatestContext is { } latest ? Value.ObjectFromJson(latest.Context) : ObjectValue.Empty;
        var zone = profile?.LatestContext?.TimeZone is { } id ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) : null;
        return new ContactFacts(new ContactSnapshot(traits, context, events.Select(e => e.Event)), events,
            profile?.Reachability() ?? ContactReachability.Nowhere, zone);
    }
}
