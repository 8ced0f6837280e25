using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Checking;
using EventSourcedJourneys.Dsl.Parsing;
using EventSourcedJourneys.Dsl.Runtime;

namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>Compiles a document the checker has accepted. Segments are compiled on first reference, so a
/// segment used by many rules is compiled once and shared.</summary>
static class DocumentCompiler
{
    public static CompiledDocument Compile(RuleDocument document, SourceMap spans)
    {
        var segmentRules = document.Rules.OfType<SegmentRule>().ToDictionary(s => s.Name, StringComparer.Ordinal);
        var compiledSegments = new Dictionary<string, ConditionFunc>(StringComparer.Ordinal);
        var inProgress = new HashSet<string>(StringComparer.Ordinal);
        ConditionCompiler? compiler = null;
        compiler = new ConditionCompiler(SegmentCondition);

        ConditionFunc SegmentCondition(string name)
        {
            if (compiledSegments.TryGetValue(name, out var compiled))
                return compiled;
            // The checker rejects unknown and circular references; this keeps the compiler total regardless.
            if (!segmentRules.TryGetValue(name, out var rule) || !inProgress.Add(name))
                return (in EvaluationScope _) => false;
            compiled = compiler!.Compile(rule.Condition);
            inProgress.Remove(name);
            compiledSegments[name] = compiled;
            return compiled;
        }

        int LineOf(Rule rule) => spans.Find(rule)?.Line ?? 0;

        var segments = document.Rules.OfType<SegmentRule>()
            .Select(s => new CompiledSegment(s.Name, LineOf(s), SegmentReferenceWalker.Names(s.Condition).Distinct().ToArray(),
                SegmentReads.Of(s.Condition, name => segmentRules.TryGetValue(name, out var referenced) ? referenced.Condition : null),
                SegmentCondition(s.Name)))
            .ToArray();
        var triggers = document.Rules.OfType<TriggerRule>()
            .Select(t => CompileTrigger(t, LineOf(t), compiler))
            .ToArray();
        var funnels = document.Rules.OfType<FunnelRule>()
            .Select(f => new CompiledFunnel(f.Name, LineOf(f), f.Steps.Select(s => Matcher(s, compiler)).ToArray(), f.Within.ToDuration()))
            .ToArray();
        var caps = document.Rules.OfType<FrequencyCapPolicy>().FirstOrDefault()?.Caps.Select(Cap).ToArray() ?? [];
        var quiet = document.Rules.OfType<QuietHoursPolicy>().FirstOrDefault()?.Hours is { } hours
            ? new QuietHours(hours.From, hours.To, hours.Zone)
            : null;
        return new CompiledDocument(segments, triggers, funnels, new WorkspacePolicies(caps, quiet));
    }

    static CompiledTrigger CompileTrigger(TriggerRule trigger, int line, ConditionCompiler compiler)
    {
        var clauses = trigger.Clauses;
        var onEvent = clauses.OfType<OnEventClause>().FirstOrDefault();
        var onDate = clauses.OfType<OnDateClause>().FirstOrDefault();
        var onSegment = clauses.OfType<OnSegmentClause>().FirstOrDefault();
        var send = clauses.OfType<SendMessageClause>().First();
        var audience = clauses.OfType<AudienceClause>().FirstOrDefault();
        var window = clauses.OfType<SendWindowClause>().FirstOrDefault()?.Hours;
        var atMost = clauses.OfType<AtMostClause>().FirstOrDefault();
        var active = clauses.OfType<ActiveClause>().FirstOrDefault();
        var goal = clauses.OfType<GoalClause>().FirstOrDefault();

        return new CompiledTrigger(
            trigger.Name,
            line,
            onSegment is not null ? [SegmentChanges.EventName(onSegment.Change, onSegment.Segment)] : onEvent?.EventNames.ToArray() ?? [],
            onEvent?.Where is { } where ? compiler.Compile(where) : null,
            onDate is null
                ? null
                : new DateSchedule(
                    onDate.DatePath.Segments.ToArray(),
                    onDate.Offsets.Select(o => (int)(o.ToDuration().Days * (onDate.Direction == OffsetDirection.Minus ? -1 : 1))).ToArray(),
                    onDate.At,
                    onDate.Zone),
            clauses.OfType<WaitClause>().FirstOrDefault()?.Duration.ToDuration() ?? NodaTime.Duration.Zero,
            clauses.OfType<CancelIfClause>().Select(c => Matcher(c.Event, compiler)).ToArray(),
            audience is null
                ? null
                : new Audience(SegmentReferenceWalker.Names(audience.Condition).Distinct().ToArray(), compiler.Compile(audience.Condition)),
            new MessageTemplate(ChannelOf(send.Channel), send.Template),
            window is null ? null : new SendWindow(window.From, window.To, window.Zone),
            atMost is null ? null : Cap(atMost.Cap),
            active is null ? null : new ActivePeriod(active.From, active.To),
            goal is null ? null : new Goal(Matcher(goal.Event, compiler), goal.Within.ToDuration(), goal.Revenue?.Segments.ToArray()),
            clauses.OfType<TransactionalClause>().Any(),
            clauses.OfType<ControlGroupClause>().FirstOrDefault() is { } control ? new ControlGroup(control.Percent.Value) : null);
    }

    static EventMatcher Matcher(EventPattern pattern, ConditionCompiler compiler) =>
        new(pattern.EventName, pattern.Where is { } where ? compiler.Compile(where) : null);

    static FrequencyCap Cap(CapLiteral cap) => new((int)cap.Count, cap.Per.ToDuration());

    static Channel ChannelOf(string name) => name switch
    {
        "email" => Channel.Email,
        "sms" => Channel.Sms,
        "push" => Channel.Push,
        "webpush" => Channel.WebPush,
        "inapp" => Channel.InApp,
        "whatsapp" => Channel.WhatsApp,
        _ => Channel.Webhook,
    };
}
